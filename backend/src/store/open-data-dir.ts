import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDataDir, ensurePrivateDir } from '../data-dir.js';
import { latestSchema, retiredSections } from './migrations.js';
import { ForeignDataError, NewerStoreError, StoreCorruptedError } from './open-errors.js';
import { openLevelStorage } from './level-storage.js';
import type { Storage } from './storage.js';
import { knownSections } from './verify.js';

/**
 * Whether a folder is api-store's data directory: the LevelDB in `db` and the few files api-store
 * keeps beside it. Opening one refuses, before writing anything, a folder that holds other things,
 * a `db` that is not a LevelDB, and a LevelDB with records api-store never writes. Making the
 * folders private is `ensureDataDir`'s job (../data-dir.ts).
 */
export const dataDirEntries: ReadonlySet<string> = new Set(['db', 'backups', 'server.json', 'session.key', 'lan-key.pem', 'lan-cert.pem']);

/** How many records the ownership check reads: enough to tell, bounded whatever the store's size. */
const OWNERSHIP_SAMPLE = 1000;

async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Opens (creating it when new) the store of a data directory, after checking that it is one. */
export async function openDataDir(dataDir: string, options: { sync: boolean }): Promise<Storage> {
  const entries = await entriesOf(dataDir);
  const foreign = (entries ?? []).filter((name) => !dataDirEntries.has(name));
  if (foreign.length && !entries?.includes('db')) {
    throw new ForeignDataError(dataDir, `it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''} and no store`);
  }
  const dbFiles = await entriesOf(join(dataDir, 'db'));
  if (dbFiles?.length && !dbFiles.includes('CURRENT')) throw new StoreCorruptedError(join(dataDir, 'db'), 'its files are there but LevelDB’s CURRENT file is missing');
  const location = await ensureDataDir(dataDir);
  const storage = await openLevelStorage(location, options);
  try {
    await checkOwnership(storage, location);
    return storage;
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/**
 * The store's storage as configured: PostgreSQL when a storage URL is given (its client loaded only
 * then), or the data dir's LevelDB. Either way the data dir exists and is private: it keeps the
 * instance's own files.
 */
export async function openStorage(config: { dataDir: string; storage?: string; durability: 'process' | 'machine' }): Promise<Storage> {
  if (config.storage === undefined) return openDataDir(config.dataDir, { sync: config.durability === 'machine' });
  await ensurePrivateDir(config.dataDir);
  const { openPostgresStorage } = await import('./postgres-storage.js');
  return openPostgresStorage(config.storage);
}

/**
 * A LevelDB with records outside api-store's sections (those it writes, or an older schema wrote),
 * or records and no schema version, is someone else's; one with a newer schema is a newer
 * api-store's, whose layout this one would misread.
 */
async function checkOwnership(storage: Storage, location: string): Promise<void> {
  const sample = await storage.recordKeys(OWNERSHIP_SAMPLE);
  const foreign = sample.find(({ section }) => !knownSections.has(section) && !retiredSections.has(section));
  if (foreign) throw new ForeignDataError(location, `it holds the key ${JSON.stringify(foreign.section ? `!${foreign.section}!${foreign.key}` : foreign.key).slice(0, 80)}`);
  const schema = await storage.get<number>('meta', 'schemaVersion');
  if (sample.length > 0 && schema === undefined) throw new ForeignDataError(location, 'it has records but no api-store schema version');
  const known = latestSchema();
  if (schema !== undefined && schema > known) throw new NewerStoreError(schema, known);
}
