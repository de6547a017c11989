import type { Clock } from '../store/store.js';
import type { AttemptState } from '../store/attempt-state.js';
import { RateLimiter } from './rate-limit.js';

export interface LoginThrottleOptions {
  clock: Clock;
  /** Failures of one user name from one address per window before that pair is refused. */
  failuresPerAddress: number;
  windowMs: number;
  /** Failures of one user name, from any address, before its growing delay starts. */
  freeFailures: number;
  /** The first delay; each further failure doubles it, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** How long an address that signed in as a user name stays exempt from that name's delay. */
  trustMs: number;
  /** Where the counters live (bounded in memory, or shared by the instances on one database). */
  state: AttemptState;
}

/** Whether the client is on the store's own machine. */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(address);
}

/**
 * Password guessing limits that slow an attacker without locking the account's owner out. No
 * limit here is one that someone else's failures can close for the owner's own address:
 * - one user name from one address: `failuresPerAddress` failures per window, then 429 for that
 *   pair only (the attacker's);
 * - one user name from anywhere: after `freeFailures` failures, each further try must wait a
 *   delay that doubles with every failure (capped), except from an address that signed in as
 *   that name recently and for an admin on loopback (the store's operator at its machine).
 * Every attempt per address is counted separately, before the body is read (attempts.ts).
 */
export class LoginThrottle {
  private readonly pairs: RateLimiter;

  constructor(private readonly options: LoginThrottleOptions) {
    this.pairs = new RateLimiter({ name: 'login-pair', limit: options.failuresPerAddress, windowMs: options.windowMs, clock: options.clock, state: options.state });
  }

  /**
   * Seconds to wait before this attempt may be checked, or undefined when it may go on.
   * `loopbackAdmin`: the user name is an admin's and the client is on loopback.
   */
  async wait(name: string, address: string, loopbackAdmin: boolean): Promise<number | undefined> {
    const pairWait = await this.pairs.wait(`${name}\0${address}`);
    if (pairWait !== undefined || loopbackAdmin || (await this.isTrusted(name, address))) return pairWait;
    const now = this.options.clock();
    const state = await this.current(name, now);
    const free = now - (state.last + this.delayAfter(state.failures));
    return free >= 0 ? undefined : Math.max(1, Math.ceil(-free / 1000));
  }

  async failed(name: string, address: string): Promise<void> {
    await this.pairs.hit(`${name}\0${address}`);
    const now = this.options.clock();
    // A name's failures are forgotten after a window without any.
    await this.options.state.update<{ failures: number; last: number }>(
      `login-name:${name}`,
      (state) => ({ failures: (state && now - state.last < this.options.windowMs ? state.failures : 0) + 1, last: now }),
      now,
      now + this.options.windowMs,
    );
  }

  async succeeded(name: string, address: string): Promise<void> {
    const now = this.options.clock();
    await this.options.state.update(`login-trusted:${name}\0${address}`, () => now, now, now + this.options.trustMs);
  }

  private async isTrusted(name: string, address: string): Promise<boolean> {
    return (await this.options.state.get<number>(`login-trusted:${name}\0${address}`, this.options.clock())) !== undefined;
  }

  private async current(name: string, now: number): Promise<{ failures: number; last: number }> {
    const state = await this.options.state.get<{ failures: number; last: number }>(`login-name:${name}`, now);
    return state && now - state.last < this.options.windowMs ? state : { failures: 0, last: now };
  }

  private delayAfter(failures: number): number {
    const { freeFailures, firstDelayMs, maxDelayMs } = this.options;
    return failures < freeFailures ? 0 : Math.min(maxDelayMs, firstDelayMs * 2 ** (failures - freeFailures));
  }
}
