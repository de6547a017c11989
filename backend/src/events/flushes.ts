import type { Writable } from 'node:stream';

/** A clock in ms, and a way to run a function after a delay (at the end of the turn when the delay is not positive). */
export interface FlushTimer {
  now(): number;
  later(run: () => void, ms: number): void;
}

const eventLoopTimer: FlushTimer = {
  now: () => performance.now(),
  later: (run, ms) => (ms > 0 ? setTimeout(run, ms) : setImmediate(run)),
};

/**
 * Keeps the TCP streams under event sockets corked between flushes, so every frame a socket is sent
 * meanwhile (the changes of several commits, under load) leaves in one write instead of one system
 * call each. A flush comes at the end of the turn, but no sooner than twice the last flush's own
 * duration after it ended: when each change goes to many sockets (a flush to 100 took 0.5–1 ms
 * here, median), writing to them takes at most a third of the main thread and the rest is left to the
 * requests that make the changes, where one flush per change would starve them and queue the
 * changes without bound. A flush to a few sockets takes microseconds, so then nothing waits.
 *
 * Returns `holdUntilFlush`: cork a stream (once) until the next flush.
 */
export function createFlushes(timer: FlushTimer = eventLoopTimer): (tcp: Writable) => void {
  const corked = new Set<Writable>();
  let earliest = -Infinity;
  const flush = () => {
    const started = timer.now();
    for (const tcp of corked) tcp.uncork();
    corked.clear();
    const ended = timer.now();
    earliest = ended + 2 * (ended - started);
  };
  return (tcp) => {
    if (corked.has(tcp)) return;
    if (corked.size === 0) timer.later(flush, earliest - timer.now());
    tcp.cork();
    corked.add(tcp);
  };
}
