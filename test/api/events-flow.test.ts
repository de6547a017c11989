import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { EventSocket } from '../helpers/event-socket.js';
import { startTestStore } from '../helpers/store.js';

test('a consumer that stops reading is closed with 1013 while a normal consumer keeps receiving', async () => {
  // The limit is above one frame, so a consumer that keeps reading never reaches it. The heartbeat
  // is far off: the stalled socket answers no ping, and on a loaded machine (or on PostgreSQL,
  // where each 1 MiB change is a round trip) the writes can outlast the default 30 s.
  const store = await startTestStore({ events: { maxBufferedBytes: 4 * 1024 * 1024, heartbeatMs: 10 * 60_000 } });
  try {
    const reader = await EventSocket.open(store.baseUrl, store.token);
    const stalled = await EventSocket.open(store.baseUrl, store.token);
    await reader.command(0, '/history');
    await stalled.command(0, '/history');
    stalled.socket.pause();

    // Large changes (written through the store, as a history route would) fill the stalled
    // socket's kernel buffers: 96 MiB is more than loopback TCP buffers hold (32 MiB receive,
    // 4 MiB send at most here) plus the limit. The writer waits for the reader after each one,
    // so the reader is never behind however loaded the machine is.
    const blob = 'x'.repeat(1024 * 1024);
    const count = 96;
    const received = [];
    for (let n = 0; n < count; n++) {
      await store.running.services.store.mutate((m) =>
        m.change({ operation: 'created', kind: 'Test#Large', id: `large-${n}`, data: { blob }, paths: ['/history'], visibility: { user: LOCAL_OWNER } }),
      );
      received.push(await reader.next());
    }
    assert.deepEqual(received.map((frame) => frame.id), Array.from({ length: count }, (_, n) => `large-${n}`));

    stalled.socket.resume();
    const closed = await stalled.closed;
    assert.equal(closed.code, 1013);
    assert.match(closed.reason, /since/);

    // The reader is unaffected and the stalled client can resume where it stopped.
    assert.deepEqual(await reader.command(0, '/files'), { type: 'ack', cmd: 0, path: '/files' });
    const resumed = await EventSocket.open(store.baseUrl, store.token);
    assert.equal((await resumed.command(0, '/history', { since: (received[count - 3].seq as number) })).type, 'ack');
    assert.deepEqual((await resumed.take(2)).map((frame) => frame.id), [`large-${count - 2}`, `large-${count - 1}`]);
    await Promise.all([reader.close(), resumed.close()]);
  } finally {
    await store.stop();
  }
});

test('the heartbeat drops a connection that stops answering pings and keeps the others', async () => {
  const store = await startTestStore({ events: { heartbeatMs: 1000 } });
  try {
    const healthy = await EventSocket.open(store.baseUrl, store.token);
    const silent = await EventSocket.open(store.baseUrl, store.token, {}, { autoPong: false });
    assert.equal((await silent.closed).code, 1006);
    assert.deepEqual(await healthy.command(0, '/history'), { type: 'ack', cmd: 0, path: '/history' });
    await healthy.close();
  } finally {
    await store.stop();
  }
});

test('a burst of changes reaches each of many observing sockets whole and in seq order, the flushes that leave later included', async () => {
  const store = await startTestStore({ events: { maxSocketsPerUser: 40 } });
  try {
    const sockets = await Promise.all(Array.from({ length: 40 }, () => EventSocket.open(store.baseUrl, store.token)));
    for (const socket of sockets) await socket.command(0, '/history');
    // Committed one after another as fast as the store writes: a flush to 40 sockets then often
    // comes while the next change is already on its way, and the next flush waits (flushes.ts).
    const count = 300;
    await Promise.all(
      Array.from({ length: count }, (_, n) =>
        store.running.services.store.mutate((m) => m.change({ operation: 'created', kind: 'Test#Burst', id: `burst-${n}`, paths: ['/history'], visibility: { user: LOCAL_OWNER } })),
      ),
    );
    for (const socket of sockets) {
      const frames = await socket.take(count);
      assert.deepEqual(
        frames.map((frame) => frame.id),
        Array.from({ length: count }, (_, n) => `burst-${n}`),
      );
      assert.ok(frames.every((frame, i) => i === 0 || (frame.seq as number) === (frames[i - 1].seq as number) + 1));
    }
    await Promise.all(sockets.map((socket) => socket.close()));
  } finally {
    await store.stop();
  }
});
