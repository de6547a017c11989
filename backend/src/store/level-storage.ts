import { Level } from 'level';
import { StoreCorruptedError, StoreLockedError } from './open-errors.js';
import type { KeyRange, Storage, StorageReader, StoredRecord, WriteOp } from './storage.js';

/** Keys a `getMany` reads synchronously at most; a longer list takes one thread-pool round trip for all. */
const SYNC_READS = 16;

/**
 * LevelDB behind the Storage interface: one sublevel per section, JSON values. Reads go through
 * the sublevels, which decode the JSON; writes go to the root database as strings (see `write`).
 */
export async function openLevelStorage(location: string, options: { sync: boolean }): Promise<Storage> {
  // A 2 MiB block cache instead of LevelDB's 8: LevelDB maps its table files into memory, so a
  // block the cache misses is read from the OS's page cache, not the disk, at the cost of a checksum
  // and a decompression; the 8 MiB filled up over a long session and stayed in the RSS of a store
  // that mostly idles.
  const db = new Level<string, string>(location, { cacheSize: 2 * 1024 * 1024 });
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(location);
    if (cause?.code === 'LEVEL_CORRUPTION' || cause?.code === 'LEVEL_IO_ERROR') throw new StoreCorruptedError(location, cause.message ?? cause.code);
    throw error;
  }
  const openSection = (name: string) => db.sublevel<string, unknown>(name, { valueEncoding: 'json' });
  const sections = new Map<string, ReturnType<typeof openSection>>();
  const section = (name: string) => {
    let sub = sections.get(name);
    if (!sub) {
      sub = openSection(name);
      sections.set(name, sub);
    }
    return sub;
  };

  /** A section of the live database ready for synchronous reads (`getSync`). */
  const openedSection = async (name: string) => {
    const sub = section(name);
    if (sub.status !== 'open') await sub.open();
    return sub;
  };

  type Snapshot = ReturnType<typeof db.snapshot>;
  /** Reads of the live database, or of one snapshot of it. */
  const reader = (snapshot?: Snapshot): StorageReader => ({
    // A single-key read is served synchronously: LevelDB answers from its cache in ~2 µs, where the
    // thread-pool round trip of the async get costs ~10 µs of CPU, on the hottest path (GET /files/{key}).
    async get<T>(name: string, key: string) {
      if (snapshot) return (await section(name).get(key, { snapshot })) as T | undefined;
      return (await openedSection(name)).getSync(key) as T | undefined;
    },
    // The root database's keys and values are strings: its read skips the sublevel's layer and the JSON decode.
    async getJson(name: string, key: string) {
      const rootKey = section(name).prefix + key;
      if (snapshot) return db.get(rootKey, { snapshot });
      // The async read waits for an opening database and fails on a closed one, as `get` does.
      return db.status === 'open' ? db.getSync(rootKey) : db.get(rootKey);
    },
    // A few keys are read synchronously too, none at all without a round trip: most key lists here
    // are short (a file's ancestors, none for a file at the root, on every PATCH).
    async getMany<T>(name: string, keys: string[]) {
      if (snapshot || keys.length > SYNC_READS) return (await section(name).getMany(keys, { snapshot })) as (T | undefined)[];
      const sub = await openedSection(name);
      return keys.map((key) => sub.getSync(key) as T | undefined);
    },
    entries<T>(name: string, range: KeyRange = {}) {
      return section(name).iterator({ ...range, snapshot }) as unknown as AsyncIterable<[string, T]>;
    },
    keys(name: string, range: KeyRange = {}) {
      return section(name).keys({ ...range, snapshot });
    },
    // One native call for the whole range: iterating costs a promise per key (~3 µs against ~1).
    keyList(name: string, range: KeyRange) {
      return section(name).keys({ ...range, snapshot }).all();
    },
    entryList<T>(name: string, range: KeyRange) {
      return section(name).iterator({ ...range, snapshot }).all() as Promise<[string, T][]>;
    },
    // One iterator over the root database: sublevel keys are `!section!key`, so root order is
    // section order, then key order. A key outside any section (not api-store's) comes with
    // section '' and its value as the raw string.
    async *records(): AsyncIterable<StoredRecord> {
      for await (const [raw, text] of db.iterator({ snapshot })) {
        const { section, key } = splitSectionKey(raw);
        yield { section, key, value: section ? JSON.parse(text) : text };
      }
    },
    async recordKeys(limit: number) {
      return (await db.keys({ limit, snapshot }).all()).map(splitSectionKey);
    },
  });

  return {
    kind: 'leveldb',
    ...reader(),
    async snapshot() {
      const snapshot = db.snapshot();
      return { ...reader(snapshot), close: () => snapshot.close() };
    },
    // One chained batch on the root database, with keys prefixed and values JSON-encoded here:
    // the same bytes as a sublevel's `put`, but an array batch with `sublevel` options costs
    // abstract-level a per-operation object copy and encoder lookups that took most of the CPU
    // of a write (createFile ~230 → ~150 µs, a 1,000-entry history batch ~85 → ~36 µs per entry).
    // LevelDB applies the batch atomically in `write()`.
    async write(ops: WriteOp[]) {
      if (ops.length === 0) return;
      const batch = db.batch();
      try {
        for (const op of ops) {
          const key = section(op.section).prefix + op.key;
          if (op.type === 'put') batch.put(key, JSON.stringify(op.value));
          else batch.del(key);
        }
      } catch (error) {
        await batch.close();
        throw error;
      }
      await batch.write({ sync: options.sync });
    },
    // LevelDB deletes the range natively, ten times faster than batches of deletes from here.
    clear: (name: string) => section(name).clear(),
    close: () => db.close(),
  };
}

/** The section and key of a root key written through a sublevel (`!section!key`). */
function splitSectionKey(raw: string): { section: string; key: string } {
  const end = raw.indexOf('!', 1);
  if (raw[0] !== '!' || end < 0) return { section: '', key: raw };
  return { section: raw.slice(1, end), key: raw.slice(end + 1) };
}
