import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

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
