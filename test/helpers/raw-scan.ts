import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testStorage } from './postgres.js';
import type { TestStore } from './store.js';

/** Every file below `dir`, at any depth. */
export async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Which of `needles` occur in the bytes of any file under `dir` (every file, at any depth: LevelDB
 * tables, its log, backups, anything else), as UTF-8 or as UTF-16, each with the files holding it.
 */
export async function filesHolding(dir: string, needles: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const path of await filesBelow(dir)) {
    const bytes = await readFile(path);
    for (const needle of needles) {
      if (bytes.includes(Buffer.from(needle, 'utf8')) || bytes.includes(Buffer.from(needle, 'utf16le'))) found.set(needle, [...(found.get(needle) ?? []), path]);
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
