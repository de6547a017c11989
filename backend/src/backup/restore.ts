import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir } from '../data-dir.js';
import { openLevelStorage } from '../store/level-storage.js';
import { latestSchema } from '../store/migrations.js';
import { NewerStoreError } from '../store/open-errors.js';
import type { Storage, WriteOp } from '../store/storage.js';
import { digestOf, verifyStore } from '../store/verify.js';
import { readBackup } from './format.js';

/** A restore target that already holds something: restoring never mixes into or replaces data. */
export class RestoreTargetError extends Error {
  constructor(dataDir: string) {
    super(`${dataDir} is not empty. A backup is restored only into an empty or new directory; nothing was changed.`);
    this.name = 'RestoreTargetError';
  }
}

/** Records per write batch while restoring: bounded memory, few round trips. */
const BATCH = 1000;

/**
 * Restores a backup into `dataDir`, which must be empty or not exist. The records go into a
 * LevelDB beside the final `db` and it is renamed into place only once the whole file has been
 * read and its checksum matched: a refused file leaves the directory as it was. Answers the
 * restored store's verify report, or for a backup of an older schema its digest and the
 * migrations its next start runs.
 */
export async function restoreBackup(file: string, dataDir: string): Promise<{ records: number; digest: string; problems: string[]; migrates?: { from: number; to: number } }> {
  const existing = await readdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing?.length) throw new RestoreTargetError(dataDir);
  await ensurePrivateDir(dataDir);
  const staging = join(dataDir, 'db.restoring');
  await ensurePrivateDir(staging);
  let storage: Storage | undefined = await openLevelStorage(staging, { sync: true });
  const known = latestSchema();
  let schema = known;
  try {
    let batch: WriteOp[] = [];
    await readBackup(file, {
      onHeader(header) {
        if (header.schema > known) throw new NewerStoreError(header.schema, known);
        schema = header.schema;
      },
      async onRecord({ section, key, value }) {
        batch.push({ type: 'put', section, key, value });
        if (batch.length >= BATCH) {
          await storage!.write(batch);
          batch = [];
        }
      },
    });
    await storage.write(batch);
    await storage.close();
    storage = undefined;
    await rename(staging, join(dataDir, 'db'));
  } catch (error) {
    await storage?.close();
    // The directory was empty or new: what is in it now is this restore's.
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  const restored = await openLevelStorage(join(dataDir, 'db'), { sync: false });
  try {
    // An older schema's layout is not this code's to check: the store migrates at its next start,
    // where verify applies. It is restored as it was, for the older api-store it came from.
    if (schema < known) return { ...(await digestOf(restored)), problems: [], migrates: { from: schema, to: known } };
    return await verifyStore(restored);
  } finally {
    await restored.close();
  }
}
