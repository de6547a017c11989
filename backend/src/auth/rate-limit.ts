import type { Clock } from '../store/store.js';
import type { AttemptState } from '../store/attempt-state.js';

/**
 * Fixed-window attempt counter per key (an address; a user name and address). `hit` counts one
 * attempt and answers how many seconds to wait when the key is over its limit, or undefined when
 * it may go on; `wait` answers whether one more would be over, without counting it. `name` keeps
 * the keys of different limiters apart in the shared state.
 */
export class RateLimiter {
  constructor(private readonly options: { name: string; limit: number; windowMs: number; clock: Clock; state: AttemptState }) {}

  async hit(key: string): Promise<number | undefined> {
    const { windowMs, limit, state, clock, name } = this.options;
    const now = clock();
    const window = await state.update<{ started: number; count: number }>(
      `${name}:${key}`,
      (current) => (!current || now - current.started >= windowMs ? { started: now, count: 1 } : { started: current.started, count: current.count + 1 }),
      now,
      now + windowMs,
    );
    return window.count <= limit ? undefined : this.secondsLeft(window, now);
  }

  async wait(key: string): Promise<number | undefined> {
    const now = this.options.clock();
    const window = await this.options.state.get<{ started: number; count: number }>(`${this.options.name}:${key}`, now);
    if (!window || now - window.started >= this.options.windowMs || window.count < this.options.limit) return undefined;
    return this.secondsLeft(window, now);
  }

  private secondsLeft(window: { started: number }, now: number): number {
    return Math.max(1, Math.ceil((window.started + this.options.windowMs - now) / 1000));
  }
}
