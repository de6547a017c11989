import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testStorage } from './postgres.js';
import type { TestStore } from './store.js';

/**
 * Which of `needles` occur in the bytes of any file under `dir` (every file, at any depth: LevelDB
 * tables, its log, backups, anything else), each with the files holding it.
 */
export async function filesHolding(dir: string, needles: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path);
    for (const needle of needles) {
      if (bytes.includes(Buffer.from(needle, 'utf8'))) found.set(needle, [...(found.get(needle) ?? []), path]);
    }
  }
  return found;
}

/**
 * Which of `needles` the store holds at rest: in the bytes of its data dir's files (LevelDB's
 * tables and log, backups), or on PostgreSQL in any of its rows, read through the storage (the
 * cluster's own files may hold a long row compressed, where a byte scan proves nothing).
 */
export async function heldAtRest(store: TestStore, needles: string[]): Promise<string[]> {
  if (testStorage !== 'postgres') return [...(await filesHolding(store.dataDir, needles)).keys()];
  const found = new Set<string>();
  for await (const record of store.running.services.store.storage.records()) {
    const text = `${record.key}\n${JSON.stringify(record.value)}`;
    for (const needle of needles) if (text.includes(needle)) found.add(needle);
  }
  return needles.filter((needle) => found.has(needle));
}
