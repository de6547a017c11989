import type { Clock } from '../store/store.js';

/** Above this many tracked keys, finished windows are dropped so memory stays bounded. */
const sweepAbove = 10_000;

/**
 * Fixed-window attempt counter per key (an address; a user name and address). `hit` counts one
 * attempt and answers how many seconds to wait when the key is over its limit, or undefined when
 * it may go on; `wait` answers whether one more would be over, without counting it.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { started: number; count: number }>();

  constructor(private readonly options: { limit: number; windowMs: number; clock: Clock }) {}

  hit(key: string): number | undefined {
    const now = this.options.clock();
    let window = this.windows.get(key);
    if (!window || now - window.started >= this.options.windowMs) {
      if (this.windows.size >= sweepAbove) this.sweep(now);
      window = { started: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    return window.count <= this.options.limit ? undefined : this.secondsLeft(window, now);
  }

  wait(key: string): number | undefined {
    const now = this.options.clock();
    const window = this.windows.get(key);
    if (!window || now - window.started >= this.options.windowMs || window.count < this.options.limit) return undefined;
    return this.secondsLeft(window, now);
  }

  private secondsLeft(window: { started: number }, now: number): number {
    return Math.max(1, Math.ceil((window.started + this.options.windowMs - now) / 1000));
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.started >= this.options.windowMs) this.windows.delete(key);
    }
  }
}
