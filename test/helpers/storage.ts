import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { openPostgresStorage } from '../../backend/src/store/postgres-storage.js';
import type { Storage } from '../../backend/src/store/storage.js';
import { sharedPostgres } from './postgres.js';
import { makeTempDir } from './store.js';

export const storageKinds = ['leveldb', 'postgres'] as const;
export type StorageKind = (typeof storageKinds)[number];

export interface TestStorage {
  storage: Storage;
  /** Closes the storage and removes its data. */
  dispose(): Promise<void>;
}

/** An empty storage of that kind: a LevelDB in a temp dir, or a new database on the file's PostgreSQL cluster. */
export async function openTestStorage(kind: StorageKind): Promise<TestStorage> {
  if (kind === 'postgres') {
    const storage = await openPostgresStorage(await (await sharedPostgres()).createDatabase());
    return { storage, dispose: () => storage.close() };
  }
  const dir = await makeTempDir();
  const storage = await openLevelStorage(join(dir, 'db'), { sync: false });
  return {
    storage,
    async dispose() {
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
