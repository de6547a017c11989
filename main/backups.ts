import { mkdir } from 'node:fs/promises';
import { backupsDirOf, type SnapshotInfo } from '../backend/src/backup/snapshots.js';
import type { StoreConnection } from '../preload/api.js';

/** "Back up now": the running store takes a full backup into `<dataDir>/backups/` (the desktop user is its admin). */
export async function backUpNow(connection: StoreConnection, fetchFn: typeof fetch = fetch): Promise<SnapshotInfo> {
  const response = await fetchFn(`${connection.baseUrl}/backups`, { method: 'POST', headers: { Authorization: `Bearer ${connection.token}` } });
  const body = (await response.json()) as SnapshotInfo & { detail?: string };
  if (response.status !== 201) throw new Error(body.detail ?? `The store answered ${response.status}.`);
  return body;
}

/**
 * "Show backups": opens the backups folder with `openPath` (Electron's `shell.openPath`, which
 * answers an error message, or '' on success). The folder is made first: it exists only after
 * the first backup.
 */
export async function showBackups(dataDir: string, openPath: (path: string) => Promise<string>): Promise<void> {
  const dir = backupsDirOf(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const error = await openPath(dir);
  if (error) throw new Error(error);
}
