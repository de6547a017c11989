import { mkdir } from 'node:fs/promises';
import type { Dialog, Shell } from 'electron';
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

/** The "Back up now" menu item: takes the backup and says where it went, or why none was written. */
export async function backUpFromMenu(connection: StoreConnection | null, dialog: Pick<Dialog, 'showMessageBox' | 'showErrorBox'>): Promise<void> {
  if (!connection) return;
  try {
    const backup = await backUpNow(connection);
    const size = `${(backup.size / 1024).toFixed(1)} KB`;
    await dialog.showMessageBox({ type: 'info', title: 'Backup written', message: 'The store was backed up', detail: `${backup.name} (${size}), in the backups folder. Restore it with api-store restore.`, buttons: ['OK'] });
  } catch (error) {
    dialog.showErrorBox('No backup was written', (error as Error).message);
  }
}

/** The "Show backups" menu item: opens the folder, or says why it could not. */
export function showBackupsFromMenu(dataDir: string, shell: Pick<Shell, 'openPath'>, dialog: Pick<Dialog, 'showErrorBox'>): Promise<void> {
  return showBackups(dataDir, (path) => shell.openPath(path)).catch((error: Error) => dialog.showErrorBox('The backups folder could not be opened', error.message));
}
