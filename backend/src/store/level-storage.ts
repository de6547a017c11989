import { Level } from 'level';
import type { KeyRange, Storage, WriteOp } from './storage.js';

/** Raised when another process holds the data directory's LevelDB lock. */
export class StoreLockedError extends Error {
  constructor(dataDir: string) {
    super(`The store in ${dataDir} is in use by another api-store (the desktop app or a --server). Stop it or choose another --data-dir.`);
    this.name = 'StoreLockedError';
  }
}

/** LevelDB behind the Storage interface: one sublevel per section, JSON values. */
export async function openLevelStorage(location: string, options: { sync: boolean }): Promise<Storage> {
  const db = new Level<string, unknown>(location, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(location);
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

  return {
    // A single-key read is served synchronously: LevelDB answers from its cache in ~2 µs, where the
    // thread-pool round trip of the async get costs ~10 µs of CPU, on the hottest path (GET /files/{key}).
    async get<T>(name: string, key: string) {
      const sub = section(name);
      if (sub.status !== 'open') await sub.open();
      return sub.getSync(key) as T | undefined;
    },
    async getMany<T>(name: string, keys: string[]) {
      return (await section(name).getMany(keys)) as (T | undefined)[];
    },
    entries<T>(name: string, range: KeyRange = {}) {
      return section(name).iterator(range) as unknown as AsyncIterable<[string, T]>;
    },
    keys(name: string, range: KeyRange = {}) {
      return section(name).keys(range);
    },
    async write(ops: WriteOp[]) {
      if (ops.length === 0) return;
      await db.batch(
        ops.map((op) =>
          op.type === 'put'
            ? { type: 'put' as const, sublevel: section(op.section), key: op.key, value: op.value }
            : { type: 'del' as const, sublevel: section(op.section), key: op.key },
        ),
        { sync: options.sync },
      );
    },
    close: () => db.close(),
  };
}
