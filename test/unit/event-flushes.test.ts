import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createFlushes } from '../../backend/src/events/flushes.js';

/**
 * Real streams under a clock the test moves: each system call a stream makes (one `writev` per
 * flush) costs `writeMs` of it, as writing to a TCP socket costs the main thread.
 */
function setUp(streamCount: number, writeMs: number) {
  let clock = 0;
  const scheduled: { run: () => void; ms: number }[] = [];
  const holdUntilFlush = createFlushes({ now: () => clock, later: (run, ms) => scheduled.push({ run, ms }) });
  const writes = Array.from({ length: streamCount }, () => [] as string[][]);
  const streams = writes.map(
    (calls) =>
      new Writable({
        writev(chunks, done) {
          clock += writeMs;
          calls.push(chunks.map(({ chunk }) => String(chunk)));
          done();
        },
      }),
  );
  const send = (frame: string) => {
    for (const stream of streams) {
      holdUntilFlush(stream);
      stream.write(frame);
    }
  };
  const runScheduled = () => {
    const { run } = scheduled.shift()!;
    run();
  };
  /** Sends frame '1' and flushes it, sends '2' `gapMs` later: how long its flush is to wait. */
  const secondFlushWait = (gapMs: number) => {
    send('1');
    runScheduled();
    clock += gapMs;
    send('2');
    assert.equal(scheduled.length, 1);
    return scheduled[0].ms;
  };
  return { writes, send, scheduled, runScheduled, secondFlushWait, advance: (ms: number) => (clock += ms) };
}

test('frames sent to event sockets before a flush leave in one write per socket, the first flush at the end of the turn', () => {
  const { writes, send, scheduled, runScheduled } = setUp(3, 0.001);
  send('a');
  send('b');
  assert.equal(scheduled.length, 1, 'one flush for every socket');
  assert.ok(scheduled[0].ms <= 0, 'nothing was flushed before, so the flush waits for nothing but the turn');
  assert.deepEqual(writes, [[], [], []], 'nothing leaves before the flush');
  runScheduled();
  assert.deepEqual(writes, [[['a', 'b']], [['a', 'b']], [['a', 'b']]]);
});

test('after a flush that took the main thread 1 ms, the next one waits 2 ms and takes every frame sent meanwhile', () => {
  const { writes, send, scheduled, runScheduled, secondFlushWait, advance } = setUp(100, 0.01);
  const wait = secondFlushWait(0.5);
  assert.ok(Math.abs(wait - 1.5) < 1e-9, `the flush waits until 2 ms after the last one ended, ${wait} ms from now`);
  advance(1);
  send('3');
  assert.equal(scheduled.length, 1, 'the frame joins the flush already waiting');
  runScheduled();
  for (const calls of writes) assert.deepEqual(calls, [['1'], ['2', '3']]);
});

test('a flush to a few sockets makes the next change wait for nothing', () => {
  const { writes, runScheduled, secondFlushWait } = setUp(2, 0.002);
  const wait = secondFlushWait(0.01);
  assert.ok(wait <= 0, `${wait} ms`);
  runScheduled();
  for (const calls of writes) assert.deepEqual(calls, [['1'], ['2']]);
});

test('a flush the host held up makes the next one wait 5 ms at most', () => {
  const { writes, runScheduled, secondFlushWait } = setUp(100, 0.1);
  assert.equal(secondFlushWait(0), 5, 'the flush took 10 ms; twice that would hold the next change for 20');
  runScheduled();
  for (const calls of writes) assert.deepEqual(calls, [['1'], ['2']]);
});
