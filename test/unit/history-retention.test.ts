import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import {
  createHistory,
  deleteHistory,
  historyAccessOf,
  listHistory,
  pruneHistory,
  startHistoryRetention,
  type HistoryEntry,
  type HistoryInput,
} from '../../backend/src/store/history.js';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { Store } from '../../backend/src/store/store.js';
import { makeTempDir } from '../helpers/store.js';

/** Retention on a real LevelDB store, with the time passed in: which entries go, and only those. */
let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await makeTempDir('api-store-retention-');
  store = await Store.open(await openLevelStorage(join(dir, 'db'), { sync: false }));
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const input = (created: number, extra: Partial<HistoryInput> = {}): HistoryInput => ({
  app: 'app',
  log: { request: { url: `https://retention.test/${created}`, method: 'GET', headers: '', startTime: created } },
  created,
  space: 'space-1',
  ...extra,
});

async function listed(user: string, type: 'user' | 'app' | 'space', id?: string): Promise<number[]> {
  const page = await listHistory(store.storage, historyAccessOf(store.storage, user), { type, id }, { limit: 500 });
  return page.items.map((entry) => entry.created);
}

test("max entries per user removes each user's oldest by time, in whatever order they were written, from every index", async () => {
  // Written out of time order and by two users: age, not insertion, decides, and u2's writes never count against u1.
  await createHistory(store, historyAccessOf(store.storage, 'u1'), [105, 101, 109, 103, 107].map((t) => input(t)));
  await createHistory(store, historyAccessOf(store.storage, 'u2'), [104, 100, 108, 102, 106, 110, 111].map((t) => input(t)));

  assert.equal(await pruneHistory(store, { maxEntriesPerUser: 3, maxAgeMs: 0 }, 1_000, { chunk: 2 }), 6);
  assert.deepEqual(await listed('u1', 'user'), [109, 107, 105]);
  assert.deepEqual(await listed('u2', 'user'), [111, 110, 108]);
  assert.deepEqual(await listed('u1', 'app', 'app'), [109, 107, 105]);
  // u1 cannot read space-1 (it is no file), so the space list shows u1's own entries only.
  assert.deepEqual(await listed('u1', 'space', 'space-1'), [109, 107, 105]);
  const left: number[] = [];
  for await (const [, entry] of store.storage.entries<HistoryEntry>('history')) left.push(entry.created);
  assert.deepEqual(left, [105, 107, 108, 109, 110, 111]);

  assert.equal(await pruneHistory(store, { maxEntriesPerUser: 3, maxAgeMs: 0 }, 1_000), 0, 'nothing more to remove');
});

test("a prune for one writer reads and removes only that writer's entries", async () => {
  await createHistory(store, historyAccessOf(store.storage, 'u1'), [1, 2, 3, 4].map((t) => input(t)));
  await createHistory(store, historyAccessOf(store.storage, 'u2'), [5, 6, 7, 8].map((t) => input(t)));
  assert.equal(await pruneHistory(store, { maxEntriesPerUser: 2, maxAgeMs: 0 }, 10, { users: ['u2'] }), 2);
  assert.deepEqual(await listed('u1', 'user'), [4, 3, 2, 1], 'u1 was not asked for');
  assert.deepEqual(await listed('u2', 'user'), [8, 7]);
});

test('max age removes entries older than the cutoff and keeps the one exactly at it', async () => {
  await createHistory(store, historyAccessOf(store.storage, 'u1'), [1_000, 2_000, 2_999, 3_000, 4_000].map((t) => input(t)));
  assert.equal(await pruneHistory(store, { maxEntriesPerUser: 0, maxAgeMs: 7_000 }, 10_000), 3);
  assert.deepEqual(await listed('u1', 'user'), [4_000, 3_000]);
});

test("the user's entry count follows deletes and age prunes, so max entries stays exact", async () => {
  const access = historyAccessOf(store.storage, 'u1');
  const entries = await createHistory(store, access, [1, 2, 3, 4, 5, 6].map((t) => input(t)));
  await deleteHistory(store, access, [entries[5].key, entries[4].key]);
  assert.equal(await pruneHistory(store, { maxEntriesPerUser: 0, maxAgeMs: 8 }, 10), 1, 'the entry at 1 is too old');
  assert.equal(await pruneHistory(store, { maxEntriesPerUser: 3, maxAgeMs: 0 }, 10), 0, 'three left: within the limit');
  assert.equal(await pruneHistory(store, { maxEntriesPerUser: 2, maxAgeMs: 0 }, 10), 1);
  assert.deepEqual(await listed('u1', 'user'), [4, 3]);
});

test('a store written before per-user counts gets them at open, and prunes by them', async () => {
  await createHistory(store, historyAccessOf(store.storage, 'u1'), [1, 2, 3].map((t) => input(t)));
  await createHistory(store, historyAccessOf(store.storage, 'u2'), [4, 5, 6, 7, 8].map((t) => input(t)));
  await createHistory(store, historyAccessOf(store.storage, 'u3'), [9].map((t) => input(t)));
  // Back to the layout of schema 1: no counts.
  const counts: string[] = [];
  for await (const user of store.storage.keys('history-counts')) counts.push(user);
  assert.deepEqual(counts, ['u1', 'u2', 'u3']);
  await store.storage.write([
    ...counts.map((user) => ({ type: 'del' as const, section: 'history-counts', key: user })),
    { type: 'put', section: 'meta', key: 'schemaVersion', value: 1 },
  ]);
  await store.close();
  store = await Store.open(await openLevelStorage(join(dir, 'db'), { sync: false }));

  const rebuilt: [string, number][] = [];
  for await (const entry of store.storage.entries<number>('history-counts')) rebuilt.push(entry);
  assert.deepEqual(rebuilt, [['u1', 3], ['u2', 5], ['u3', 1]]);
  assert.equal(await pruneHistory(store, { maxEntriesPerUser: 2, maxAgeMs: 0 }, 10), 4);
  assert.deepEqual(await listed('u1', 'user'), [3, 2]);
  assert.deepEqual(await listed('u2', 'user'), [8, 7]);
  assert.deepEqual(await listed('u3', 'user'), [9]);
});

test('the background task prunes when triggered and stops cleanly', async () => {
  let now = 10_000;
  const errors: unknown[] = [];
  const task = startHistoryRetention(store, { maxEntriesPerUser: 0, maxAgeMs: 5_000 }, { clock: () => now, onError: (error) => errors.push(error) });
  try {
    await createHistory(store, historyAccessOf(store.storage, 'u1'), [6_000, 8_000].map((t) => input(t)));
    await task.idle();
    assert.deepEqual(await listed('u1', 'user'), [8_000, 6_000], 'both are young enough');
    now = 12_000;
    task.trigger();
    await task.idle();
    assert.deepEqual(await listed('u1', 'user'), [8_000]);
    assert.deepEqual(errors, []);
  } finally {
    await task.stop();
  }
});
