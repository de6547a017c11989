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

/** The longest a flush waits for the one before it (see `createFlushes`). */
const maxWaitMs = 5;

/**
 * Keeps the TCP streams under event sockets corked between flushes, so every frame a socket is
 * sent meanwhile (the changes of several commits, under load) leaves in one write instead of one
 * system call each (ws corks around each frame as well; corks nest). A flush comes at the end of
 * the turn, but no sooner than twice the last flush's own duration after it ended. When each
 * change goes to many sockets (a flush to 100 took 0.5–1 ms here, median), writing to them then
 * takes at most a third of the main thread, and the rest is left to the requests that make the
 * changes: with a flush per change they queued (at 800/s, a backlog of 1–2.5 s in the events
 * bench). A flush to a few sockets takes microseconds, so then nothing waits. The wait is at most
 * `maxWaitMs`: the duration is wall time, and a flush the host interrupted (a p99 of 2–8 ms to 100
 * sockets here) says little about the next one.
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
    earliest = ended + Math.min(2 * (ended - started), maxWaitMs);
  };
  return (tcp) => {
    if (corked.has(tcp)) return;
    if (corked.size === 0) timer.later(flush, earliest - timer.now());
    tcp.cork();
    corked.add(tcp);
  };
}
