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

test('max entries removes the oldest by time, whoever wrote them and in whatever order, from every index', async () => {
  // Written out of time order and by two users: age, not insertion, decides.
  await createHistory(store, historyAccessOf(store.storage, 'u1'), [105, 101, 109, 103, 107].map((t) => input(t)));
  await createHistory(store, historyAccessOf(store.storage, 'u2'), [104, 100, 108, 102, 106].map((t) => input(t)));

  assert.equal(await pruneHistory(store, { maxEntries: 6, maxAgeMs: 0 }, 1_000, 3), 4);
  assert.deepEqual(await listed('u1', 'user'), [109, 107, 105]);
  assert.deepEqual(await listed('u2', 'user'), [108, 106, 104]);
  assert.deepEqual(await listed('u1', 'app', 'app'), [109, 107, 105]);
  // u1 cannot read space-1 (it is no file), so the space list shows u1's own entries only.
  assert.deepEqual(await listed('u1', 'space', 'space-1'), [109, 107, 105]);
  const left: number[] = [];
  for await (const [, entry] of store.storage.entries<HistoryEntry>('history')) left.push(entry.created);
  assert.deepEqual(left, [104, 105, 106, 107, 108, 109]);

  assert.equal(await pruneHistory(store, { maxEntries: 6, maxAgeMs: 0 }, 1_000), 0, 'nothing more to remove');
});

test('max age removes entries older than the cutoff and keeps the one exactly at it', async () => {
  await createHistory(store, historyAccessOf(store.storage, 'u1'), [1_000, 2_000, 2_999, 3_000, 4_000].map((t) => input(t)));
  assert.equal(await pruneHistory(store, { maxEntries: 0, maxAgeMs: 7_000 }, 10_000), 3);
  assert.deepEqual(await listed('u1', 'user'), [4_000, 3_000]);
});

test('the entry count follows deletes, so max entries stays exact', async () => {
  const access = historyAccessOf(store.storage, 'u1');
  const entries = await createHistory(store, access, [1, 2, 3, 4, 5].map((t) => input(t)));
  await deleteHistory(store, access, [entries[4].key, entries[3].key]);
  assert.equal(await pruneHistory(store, { maxEntries: 3, maxAgeMs: 0 }, 10), 0, 'three left: within the limit');
  assert.equal(await pruneHistory(store, { maxEntries: 2, maxAgeMs: 0 }, 10), 1);
  assert.deepEqual(await listed('u1', 'user'), [3, 2]);
});

test('the background task prunes when triggered and stops cleanly', async () => {
  let now = 10_000;
  const errors: unknown[] = [];
  const task = startHistoryRetention(store, { maxEntries: 0, maxAgeMs: 5_000 }, { clock: () => now, onError: (error) => errors.push(error) });
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
