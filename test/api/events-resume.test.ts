import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactChanges } from '../../backend/src/store/change-feed.js';
import { seqKey, type Change } from '../../backend/src/store/changes.js';
import { EventSocket, readFeed, type Frame } from '../helpers/event-socket.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

const entry = (n: number) => ({ app: 'resume-test', log: { request: { url: `http://a.test/${n}`, method: 'GET', headers: '', startTime: n } } });

async function addHistory(store: TestStore, n: number): Promise<string> {
  const response = await store.api('/history', { method: 'POST', body: entry(n) });
  assert.equal(response.status, 201);
  return ((await response.json()) as { key: string }).key;
}

async function addHistoryBatch(store: TestStore, from: number, count: number): Promise<string[]> {
  const body = Array.from({ length: count }, (_, i) => entry(from + i));
  const response = await store.api('/history/batch/create', { method: 'POST', body });
  assert.equal(response.status, 200);
  return ((await response.json()) as { items: string[] }).items;
}


test('a client that reconnects with since gets exactly the 500 changes it missed, in order; /changes lists the same', async () => {
  const store = await startTestStore();
  try {
    const first = await EventSocket.open(store.baseUrl, store.token);
    await first.command(0, '/history');
    await addHistory(store, 0);
    const last = (await first.next()).seq as number;
    await first.close();

    const missed: string[] = [];
    for (let n = 1; n <= 500; n++) missed.push(await addHistory(store, n));

    const again = await EventSocket.open(store.baseUrl, store.token);
    assert.deepEqual(await again.command(0, '/history', { since: last }), { type: 'ack', cmd: 0, path: '/history' });
    const replayed = await again.take(500);
    assert.deepEqual(replayed.map((frame) => frame.id), missed);
    assert.deepEqual(replayed.map((frame) => frame.seq), missed.map((_, i) => last + 1 + i));
    assert.ok(replayed.every((frame) => frame.type === 'event' && frame.operation === 'created'));
    assert.deepEqual(await again.next(), { type: 'replayed', path: '/history', seq: last + 500 });

    // Live changes follow the replay on the same socket.
    const live = await addHistory(store, 501);
    assert.deepEqual([(await again.next()).id, again.pending], [live, 0]);
    await again.close();

    const feed = await readFeed(store.api, `since=${last}`);
    assert.deepEqual(feed, [...replayed, { ...feed[500], id: live }]);
    assert.deepEqual(await readFeed(store.api, `since=${last}&path=/history`), feed);
    assert.deepEqual(await readFeed(store.api, `since=${last}&path=/files`), []);
  } finally {
    await store.stop();
  }
});

test('the feed stores a history entry once: its created change is replayed and listed with the entry, read from the entry itself', async () => {
  const store = await startTestStore();
  try {
    const socket = await EventSocket.open(store.baseUrl, store.token);
    await socket.command(0, '/history');
    const [kept, removed] = await addHistoryBatch(store, 0, 2);
    const live = await socket.take(2);
    await socket.close();
    assert.deepEqual(live.map((frame) => [frame.id, (frame.data as { key: string }).key]), [[kept, kept], [removed, removed]]);
    const since = (live[0].seq as number) - 1;

    const stored = await store.running.services.store.storage.get<Change>('changes', seqKey(live[0].seq as number));
    assert.deepEqual([stored?.id, stored?.data], [kept, undefined]);
    assert.deepEqual(await readFeed(store.api, `since=${since}`), live);
    assert.deepEqual(await readFeed(store.api, `since=${since}&path=/history`), live);
    const again = await EventSocket.open(store.baseUrl, store.token);
    await again.command(0, '/history', { since });
    assert.deepEqual(await again.take(2), live);
    await again.close();

    // A created change read after its entry is gone has no data; the deletion follows it.
    assert.equal((await store.api(`/history/${removed}`, { method: 'DELETE' })).status, 204);
    const feed = await readFeed(store.api, `since=${since}`);
    assert.deepEqual(feed.map((frame) => [frame.id, frame.operation, 'data' in frame]), [[kept, 'created', true], [removed, 'created', false], [removed, 'deleted', false]]);
  } finally {
    await store.stop();
  }
});

test('changes committed while a replay runs arrive once, with no gap', async () => {
  const store = await startTestStore();
  try {
    for (let n = 0; n < 3; n++) await addHistoryBatch(store, n * 400, 400);
    const watcher = await EventSocket.open(store.baseUrl, store.token);
    await watcher.command(0, '/history');
    const writes = (async () => {
      for (let n = 0; n < 200; n++) await addHistory(store, 1200 + n);
    })();
    await watcher.next(); // the writer has started
    const socket = await EventSocket.open(store.baseUrl, store.token);
    assert.equal((await socket.command(0, '/history', { since: 0 })).type, 'ack');
    await writes;
    const total = store.running.services.store.seq;
    // The replay's end comes between the changes it read and the ones held meanwhile.
    const frames = await socket.take(total + 1);
    const end = frames.findIndex((frame) => frame.type === 'replayed');
    assert.deepEqual(frames[end], { type: 'replayed', path: '/history', seq: frames[end - 1].seq });
    const seqs = frames.filter((frame) => frame.type === 'event').map((frame) => frame.seq);
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1));
    assert.equal(socket.pending, 0);
    await Promise.all([socket.close(), watcher.close()]);
  } finally {
    await store.stop();
  }
});

test('a since older than the retained feed answers resync_required; compaction keeps the seq across restarts', async () => {
  const store = await startTestStore({ events: { retentionEntries: 10 } });
  try {
    await addHistoryBatch(store, 0, 30);
    const removed = await compactChanges(store.running.services.store, { maxEntries: 10, maxAgeMs: 60_000 }, 7);
    assert.equal(removed, 20);

    const socket = await EventSocket.open(store.baseUrl, store.token);
    const refused = await socket.command(0, '/history', { since: 5 });
    assert.deepEqual([refused.type, refused.code, refused.path], ['error', 'resync_required', '/history']);
    assert.equal((await socket.command(0, '/history', { since: 31 })).code, 'resync_required');
    assert.equal((await socket.command(0, '/history', { since: 20 })).type, 'ack');
    assert.deepEqual((await socket.take(10)).map((frame) => frame.seq), [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    await socket.close();

    const gone = await store.api('/changes?since=19');
    assert.equal(gone.status, 410);
    const problem = (await gone.json()) as { code: string; seq: number };
    assert.deepEqual([problem.code, problem.seq], ['resync_required', 30]);
    assert.equal((await readFeed(store.api, 'since=20')).length, 10);

    // Everything older than now: all but the newest entry, which carries the seq over a restart.
    await compactChanges(store.running.services.store, { maxEntries: 10, maxAgeMs: -1 });
    assert.equal((await store.api('/changes?since=28')).status, 410);
    await store.stop({ keepData: true });
    const reopened = await startTestStore({ dataDir: store.dataDir, token: store.token });
    try {
      await addHistory(reopened, 31);
      assert.deepEqual((await readFeed(reopened.api, 'since=29')).map((frame) => frame.seq), [30, 31]);
    } finally {
      await reopened.stop();
    }
  } finally {
    await store.stop();
  }
});

test('GET /changes validates its query and its cursor', async () => {
  const store = await startTestStore();
  try {
    await addHistoryBatch(store, 0, 5);
    const page = (await (await store.api('/changes?since=0&limit=2')).json()) as { items: Frame[]; cursor: string };
    assert.deepEqual(page.items.map((frame) => frame.seq), [1, 2]);
    const tampered = page.cursor.replace(/^./, (c) => (c === 'e' ? 'f' : 'e'));
    for (const [query, code] of [
      [`cursor=${tampered}`, 'invalid_cursor'],
      ['since=-1', 'validation_failed'],
      ['limit=501', 'validation_failed'],
      ['path=/nope', 'validation_failed'],
    ]) {
      const response = await store.api(`/changes?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(((await response.json()) as { code: string }).code, code, query);
    }
    assert.equal((await store.api('/changes', { token: null })).status, 401);
  } finally {
    await store.stop();
  }
});
