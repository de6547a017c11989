import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { compactChanges, feedFloor, streamChanges } from '../../backend/src/store/change-feed.js';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { Store } from '../../backend/src/store/store.js';
import { makeTempDir } from '../helpers/store.js';

const day = 24 * 60 * 60 * 1000;

/** A store on a real temp LevelDB whose clock the test sets. */
async function openStore(dir: string, clock: { now: number }): Promise<Store> {
  return Store.open(await openLevelStorage(join(dir, 'db'), { sync: false }), () => clock.now);
}

/** The seqs of the feed after `after`, as a replay or a page reads them. */
async function seqsAfter(store: Store, after: number, range: { limit: number; until?: number }): Promise<number[]> {
  const seqs: number[] = [];
  for await (const [, change] of streamChanges(store.storage, after, range)) seqs.push(change.seq);
  return seqs;
}

const addChanges = (store: Store, count: number) =>
  store.mutate((m) => {
    for (let n = 0; n < count; n++) m.change({ operation: 'created', kind: 'Test', id: `t${n}`, paths: ['/history'], visibility: { user: 'u' } });
  });

test('compaction by age removes only entries older than the retention, in bounded batches', async () => {
  const dir = await makeTempDir();
  const clock = { now: 0 };
  const store = await openStore(dir, clock);
  try {
    await addChanges(store, 25); // seq 1..25 at day 0
    clock.now = 10 * day;
    await addChanges(store, 5); // seq 26..30 at day 10
    clock.now = 12 * day;
    assert.equal(await compactChanges(store, { maxAgeMs: 5 * day, maxEntries: 1000 }, 4), 25);
    assert.equal(await feedFloor(store.storage), 25);
    assert.deepEqual(await seqsAfter(store, 0, { limit: 100 }), [26, 27, 28, 29, 30]);
    assert.equal(await compactChanges(store, { maxAgeMs: 5 * day, maxEntries: 1000 }), 0, 'nothing more is due');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('compaction never removes the newest entry, so the seq survives a reopen', async () => {
  const dir = await makeTempDir();
  const clock = { now: 0 };
  let store = await openStore(dir, clock);
  try {
    await addChanges(store, 3);
    clock.now = 100 * day;
    assert.equal(await compactChanges(store, { maxAgeMs: day, maxEntries: 1 }), 2);
    await store.close();
    store = await openStore(dir, clock);
    assert.equal(store.seq, 3);
    await addChanges(store, 1);
    assert.deepEqual(await seqsAfter(store, 0, { limit: 10 }), [3, 4]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('streamChanges reads the range (after, until] and at most limit entries', async () => {
  const dir = await makeTempDir();
  const store = await openStore(dir, { now: 0 });
  try {
    await addChanges(store, 10);
    assert.deepEqual(await seqsAfter(store, 2, { limit: 100, until: 5 }), [3, 4, 5]);
    assert.deepEqual(await seqsAfter(store, 2, { limit: 2, until: 9 }), [3, 4]);
    assert.deepEqual(await seqsAfter(store, 5, { limit: 100, until: 5 }), []);
    assert.deepEqual(await seqsAfter(store, 8, { limit: 100 }), [9, 10]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
