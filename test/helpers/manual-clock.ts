import type { Clock } from '../../main/clock.js';

interface Timer {
  id: number;
  ms: number;
  callback: () => void;
}

/** A clock whose timers run only when the test fires them: no test waits on real time. */
export class ManualClock implements Clock {
  time = 1_000_000;
  readonly #timers = new Map<number, Timer>();
  #nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, { id, ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Delays of the timers still pending, oldest first. */
  get pending(): number[] {
    return [...this.#timers.values()].map((timer) => timer.ms);
  }

  /** Moves time forward to the oldest pending timer and runs it. */
  fireNext(): void {
    const timer = this.#timers.values().next().value;
    if (!timer) throw new Error('no timer is pending');
    this.#timers.delete(timer.id);
    this.time += timer.ms;
    timer.callback();
  }
}
