import type { Logger } from '../logger.js';
import { CHANGES_BY_PATH, pathIndexKeys, seqKey, type Change } from './changes.js';
import { readPage, type PageRequest } from './paging.js';
import type { Storage, StorageReader, WriteOp } from './storage.js';
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

/** Puts back the `data` the feed stored in its record (see `dataSection`), one read per section. */
export async function withStoredData(storage: StorageReader, changes: Change[]): Promise<Change[]> {
  const wanted = new Map<string, Change[]>();
  for (const change of changes) {
    if (change.dataSection === undefined || change.data !== undefined) continue;
    const of = wanted.get(change.dataSection);
    if (of) of.push(change);
    else wanted.set(change.dataSection, [change]);
  }
  for (const [section, of] of wanted) {
    const records = await storage.getMany(section, of.map((change) => change.id));
    of.forEach((change, i) => (change.data = records[i]));
  }
  return changes;
}

/** Feed entries read and completed at once while streaming. */
const STREAM_CHUNK = 64;

/**
 * Up to `limit` feed entries (seq key, change) with a seq above `after` (and at most `until`), in
 * seq order, read from storage as the caller consumes them, `STREAM_CHUNK` at a time: memory does
 * not grow with `limit`.
 */
export async function* streamChanges(storage: Storage, after: number, range: { limit: number; until?: number }): AsyncIterable<[string, Change]> {
  let chunk: [string, Change][] = [];
  const completed = async () => {
    await withStoredData(storage, chunk.map(([, change]) => change));
    return chunk;
  };
  for await (const entry of storage.entries<Change>('changes', { gt: seqKey(after), limit: range.limit, ...(range.until !== undefined && { lte: seqKey(range.until) }) })) {
    chunk.push(entry);
    if (chunk.length < STREAM_CHUNK) continue;
    yield* await completed();
    chunk = [];
  }
  yield* await completed();
}

/** How many changes of one path a page may read past those the reader cannot see. */
export const PATH_SCAN_BUDGET = 2000;

/**
 * One page of the changes after seq `page.after` (on `path` only, when given), as `select` shows
 * them (`undefined` for one the reader may not see); `last`, the seq to continue after, is absent
 * on the last page. Without a path it scans `limit` changes at most; with one it reads that
 * path's index, so changes on other paths cost nothing, and scans up to `PATH_SCAN_BUDGET`
 * changes on the path that the reader may not see.
 */
export async function readChangePage<R>(
  storage: Storage,
  page: PageRequest<number> & { path?: string },
  select: (change: Change) => Promise<R | undefined>,
): Promise<{ items: R[]; last?: number }> {
  const showAll = async (changes: (Change | undefined)[]) => {
    await withStoredData(storage, changes.filter((change): change is Change => change !== undefined));
    const shown: (R | undefined)[] = [];
    for (const change of changes) shown.push(change && (await select(change)));
    return shown;
  };
  const after = page.after ?? 0;
  const { path } = page;
  const result =
    path === undefined
      ? await readPage<Change, R>(storage, 'changes', {}, { ...page, after: seqKey(after) }, (chunk) => showAll(chunk.map(([, change]) => change)))
      : await readPage<number, R>(
          storage,
          CHANGES_BY_PATH,
          { gt: `${path}\0`, lt: `${path}\x01` },
          { ...page, after: pathIndexKeys({ seq: after, paths: [path] })[0], budget: PATH_SCAN_BUDGET },
          async (chunk) => showAll(await storage.getMany<Change>('changes', chunk.map(([, seq]) => seqKey(seq)))),
        );
  return result.last === undefined ? { items: result.items } : { items: result.items, last: Number(result.last.slice(-16)) };
}

/**
 * Builds `changes-by-path` for a feed written before it existed, a thousand changes per batch
 * (migration 3).
 */
export async function indexChangesByPath(storage: Storage, batch = 1000): Promise<void> {
  let after = '';
  for (;;) {
    const ops: WriteOp[] = [];
    let read = 0;
    for await (const [key, change] of storage.entries<Change>('changes', { gt: after, limit: batch })) {
      for (const pathKey of pathIndexKeys(change)) ops.push({ type: 'put', section: CHANGES_BY_PATH, key: pathKey, value: change.seq });
      [after, read] = [key, read + 1];
    }
    await storage.write(ops);
    if (read < batch) return;
  }
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
        for (const pathKey of pathIndexKeys(change)) m.del(CHANGES_BY_PATH, pathKey);
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

/**
 * Compacts after `firstRunDelayMs` (away from the start-up) and then every `everyMs` in the
 * background; returns the function that stops it.
 */
export function scheduleFeedCompaction(store: Store, retention: FeedRetention, timing: { everyMs: number; firstRunDelayMs: number }, log: Logger): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const run = () => {
    running = compactChanges(store, retention)
      .then((removed) => removed && log.info('change feed compacted', { removed }))
      .catch((error) => log.error('change feed compaction failed', { error: String(error) }));
  };
  const first = setTimeout(run, timing.firstRunDelayMs).unref();
  const timer = setInterval(run, timing.everyMs).unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
