/** When to restart a crashed backend, and when to stop trying. */
export interface RestartPolicy {
  /** Wait before the first restart; each further crash in the window doubles it. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** This many crashes within `windowMs` means the backend cannot run: give up. */
  maxCrashes: number;
  windowMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { firstDelayMs: 500, maxDelayMs: 15_000, maxCrashes: 5, windowMs: 2 * 60_000 };

/**
 * The delay before the next start, or `undefined` to give up. `crashTimes` holds the time of
 * every crash so far, the latest included.
 */
export function restartDelay(crashTimes: number[], now: number, policy: RestartPolicy): number | undefined {
  const recent = crashTimes.filter((time) => now - time < policy.windowMs).length;
  if (recent >= policy.maxCrashes) return undefined;
  return Math.min(policy.firstDelayMs * 2 ** Math.max(recent - 1, 0), policy.maxDelayMs);
}
