import type { Logger } from '../logger.js';
import { seqKey, type Change } from './changes.js';
import type { Storage, StorageReader } from './storage.js';
import type { Store } from './store.js';

/**
 * Reading and compacting the change feed (section `changes`, one entry per seq). Compaction
 * removes the oldest entries and records the highest removed seq as the feed's floor: a client
 * resuming from below the floor has missed changes that no longer exist and must resync.
 */
const floorKey = 'changes:floor';

export interface FeedRetention {
  /** Entries older than this are removed, */
  maxAgeMs: number;
  /** and so is everything but the newest `maxEntries`. */
  maxEntries: number;
}

/** The highest seq compaction removed (0 when nothing was): `since` must be at least this. */
export async function feedFloor(storage: StorageReader): Promise<number> {
  return (await storage.get<number>('meta', floorKey)) ?? 0;
}

/** Up to `limit` changes with a seq above `after`, in seq order. */
export async function readChanges(storage: Storage, after: number, limit: number): Promise<Change[]> {
  const changes: Change[] = [];
  for await (const [, change] of storage.entries<Change>('changes', { gt: seqKey(after), limit })) changes.push(change);
  return changes;
}

/**
 * Removes the entries beyond the retention, `batch` per mutation so that no batch grows with
 * the feed. The newest entry always stays: the store reads its seq back from it at open.
 */
export async function compactChanges(store: Store, retention: FeedRetention, batch = 1000): Promise<number> {
  let removed = 0;
  for (;;) {
    const count = await store.mutate(async (m) => {
      const floor = await feedFloor(store.storage);
      const keepFrom = store.seq - retention.maxEntries;
      const cutoff = m.now - retention.maxAgeMs;
      let last = floor;
      let deleted = 0;
      const range = { gt: seqKey(floor), lt: seqKey(store.seq), limit: batch };
      for await (const [key, change] of store.storage.entries<Change>('changes', range)) {
        if (change.seq > keepFrom && change.time >= cutoff) break;
        m.del('changes', key);
        last = change.seq;
        deleted += 1;
      }
      if (last > floor) m.put('meta', floorKey, last);
      return deleted;
    });
    removed += count;
    if (count < batch) return removed;
  }
}

/** Compacts now and then every `everyMs` in the background; returns the function that stops it. */
export function scheduleFeedCompaction(store: Store, retention: FeedRetention, everyMs: number, log: Logger): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = compactChanges(store, retention)
      .then((removed) => removed && log.info('change feed compacted', { removed }))
      .catch((error) => log.error('change feed compaction failed', { error: String(error) }));
  };
  run();
  const timer = setInterval(run, everyMs).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
