import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isShared, type Storage, type WriteOp } from '../store/storage.js';
import { digestOf, verifyStore } from '../store/verify.js';

/** A copy target that already holds a store: copying never mixes into or replaces data. */
export class CopyTargetError extends Error {
  constructor(target: string) {
    super(`${target} already holds records. A store is copied only into an empty database or an empty or new directory; nothing was changed.`);
    this.name = 'CopyTargetError';
  }
}

/** Records per write batch: bounded memory, few round trips (one transaction each on PostgreSQL). */
const BATCH = 1000;

/** Whether a data dir is empty or missing, so a copy may create its store there. */
export async function isEmptyDir(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries.length === 0;
}

async function isEmptyStorage(storage: Storage): Promise<boolean> {
  for await (const _ of storage.records()) return false;
  return true;
}

/**
 * Copies every record of `source`, read from one snapshot (it may be serving meanwhile), into the
 * empty `target`, then verifies the copy: the target's verify report, with a problem added when
 * its digest differs from the source snapshot's. `targetName` names the target in messages.
 */
export async function copyStorage(source: Storage, target: Storage, targetName: string): Promise<{ records: number; digest: string; problems: string[] }> {
  if (!(await isEmptyStorage(target))) throw new CopyTargetError(targetName);
  const snapshot = await source.snapshot();
  try {
    let batch: WriteOp[] = [];
    let lastSeq = 0;
    for await (const { section, key, value } of snapshot.records()) {
      batch.push({ type: 'put', section, key, value });
      if (section === 'changes') lastSeq = Number(key);
      if (batch.length >= BATCH) {
        await target.write(batch);
        batch = [];
      }
    }
    await target.write(batch);
    // The feed goes on from the copied seqs on a shared database, whose counter is its own row.
    if (isShared(target) && lastSeq > 0) await target.adoptSeq(lastSeq);
    const expected = await digestOf(snapshot);
    const copied = await verifyStore(target);
    const problems = [...copied.problems];
    if (copied.digest !== expected.digest || copied.records !== expected.records) {
      problems.push(`the copy differs from the source: ${copied.records} records (sha256:${copied.digest}), the source has ${expected.records} (sha256:${expected.digest})`);
    }
    return { ...copied, problems };
  } finally {
    await snapshot.close();
  }
}

/** Removes what a failed copy made in a data dir that was empty or new before it. */
export async function removeCopiedDir(dataDir: string): Promise<void> {
  await rm(join(dataDir, 'db'), { recursive: true, force: true });
}
