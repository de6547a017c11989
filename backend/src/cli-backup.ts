/** `api-store backup | restore | verify`: keeping a data dir safe, from the command line. */
import { constants } from 'node:fs';
import { access, chmod, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBackup } from './backup/format.js';
import { copyStorage, CopyTargetError, isEmptyDir, removeCopiedDir } from './backup/copy-storage.js';
import { restoreBackup } from './backup/restore.js';
import { backupsDirOf, type SnapshotInfo } from './backup/snapshots.js';
import { parseCommandArgs, UsageError } from './cli-args.js';
import { defaultDataDir } from './config.js';
import { runningServerOn } from './running-server.js';
import { openDataDir } from './store/open-data-dir.js';
import { StoreLockedError } from './store/open-errors.js';
import { isStorageUrl, redactUrl } from './store/storage-url.js';
import type { Storage } from './store/storage.js';
import { verifyStore } from './store/verify.js';

export interface BackupIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  clock?: () => number;
}

/** A command that ran but found its work could not be done, or found problems: exit 1. */
export class CommandFailed extends Error {}

const parse = (argv: string[]) => parseCommandArgs(argv, { 'data-dir': { type: 'string' }, out: { type: 'string' } });

/** Opens an existing store for reading; never creates one where there is none. */
async function openExisting(dataDir: string): Promise<Storage> {
  try {
    await access(join(dataDir, 'db'));
  } catch {
    throw new CommandFailed(`there is no store in ${dataDir}.`);
  }
  return openDataDir(dataDir, { sync: false });
}

/** Runs `backup`, `restore` or `verify` (argv without the command); answers the exit code. */
export async function runBackupCommand(command: string, argv: string[], io: BackupIo): Promise<number> {
  const now = io.clock ?? Date.now;
  if (command === 'backup') {
    const { values, positionals } = parse(argv);
    if (!values.out || positionals.length) throw new UsageError('the backup command is `api-store backup --data-dir <path> --out <file>`');
    const dataDir = values['data-dir'] ?? defaultDataDir(io.env);
    const out = values.out;
    if (await access(out).then(() => true, () => false)) throw new CommandFailed(`${out} exists; choose a new --out file.`);
    let storage: Storage;
    try {
      storage = await openExisting(dataDir);
    } catch (error) {
      if (!(error instanceof StoreLockedError)) throw error;
      // The store is running: it takes the snapshot itself, never a copy of its live files.
      const snapshot = await backupThroughServer(dataDir, io.env);
      await copyFile(join(backupsDirOf(dataDir), snapshot.name), out, constants.COPYFILE_EXCL);
      await chmod(out, 0o600);
      io.stdout(`backup written to ${out} by the running store (${snapshot.size} bytes; also kept as ${snapshot.name})\n`);
      return 0;
    }
    try {
      const snapshot = await storage.snapshot();
      try {
        const { records } = await writeBackup(snapshot, out, now());
        io.stdout(`backup written to ${out} (${records} records)\n`);
      } finally {
        await snapshot.close();
      }
    } finally {
      await storage.close();
    }
    return 0;
  }
  if (command === 'restore') {
    const { values, positionals } = parse(argv);
    if (positionals.length !== 1 || values.out) throw new UsageError('the restore command is `api-store restore <file> --data-dir <empty dir>`');
    const dataDir = values['data-dir'] ?? defaultDataDir(io.env);
    const result = await restoreBackup(positionals[0], dataDir);
    io.stdout(`restored ${result.records} records into ${dataDir}\n`);
    if (result.migrates) {
      io.stdout(`records of schema ${result.migrates.from}, digest sha256:${result.digest}: this api-store migrates them to schema ${result.migrates.to} at its next start; verify after that\n`);
      return 0;
    }
    return reportVerify(result, io);
  }
  if (command === 'copy-storage') return copyStorageCommand(argv, io);
  if (command === 'verify') {
    const { values, positionals } = parse(argv);
    if (positionals.length || values.out) throw new UsageError('the verify command is `api-store verify --data-dir <path>`');
    const storage = await openExisting(values['data-dir'] ?? defaultDataDir(io.env));
    try {
      return reportVerify(await verifyStore(storage), io);
    } finally {
      await storage.close();
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

/** Opens one side of a copy: a PostgreSQL URL, or a data dir (an existing store, or for the target an empty or new dir). */
async function openSide(where: string, role: 'from' | 'to'): Promise<Storage> {
  if (isStorageUrl(where)) {
    const { openPostgresStorage } = await import('./store/postgres-storage.js');
    return openPostgresStorage(where);
  }
  if (role === 'from') return openExisting(where);
  if (!(await isEmptyDir(where))) throw new CopyTargetError(where);
  return openDataDir(where, { sync: true });
}

/**
 * `api-store copy-storage --from <dir or url> --to <dir or url>`: a store moved between LevelDB and
 * PostgreSQL, then verified. A side left out is API_STORE_STORAGE_URL, so a password stays out of argv.
 */
async function copyStorageCommand(argv: string[], io: BackupIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { from: { type: 'string' }, to: { type: 'string' } });
  const fromEnv = io.env.API_STORE_STORAGE_URL || undefined;
  const from = values.from ?? fromEnv;
  const to = values.to ?? fromEnv;
  if (positionals.length || !from || !to || from === to) {
    throw new UsageError('the copy-storage command is `api-store copy-storage --from <data dir or postgres:// URL> --to <empty data dir or postgres:// URL>` (a side left out is API_STORE_STORAGE_URL)');
  }
  for (const [flag, value] of [['from', values.from], ['to', values.to]] as const) {
    if (value && isStorageUrl(value) && URL.canParse(value) && new URL(value).password) {
      io.stdout(`warning: --${flag} holds a password, visible to other users of this machine in the process list; prefer API_STORE_STORAGE_URL.\n`);
    }
  }
  const name = (where: string) => (isStorageUrl(where) ? redactUrl(where) : where);
  const source = await openSide(from, 'from');
  try {
    const targetWasEmptyDir = !isStorageUrl(to);
    const target = await openSide(to, 'to');
    let result;
    try {
      result = await copyStorage(source, target, name(to));
    } catch (error) {
      await target.close();
      if (targetWasEmptyDir && !(error instanceof CopyTargetError)) await removeCopiedDir(to);
      if (error instanceof CopyTargetError) throw new CommandFailed(error.message);
      throw new CommandFailed(`the copy to ${name(to)} failed (${(error as Error).message})${targetWasEmptyDir ? '; nothing was left there' : '; the target database holds part of the store: empty it before trying again'}.`);
    }
    await target.close();
    io.stdout(`copied ${result.records} records from ${name(from)} to ${name(to)}\n`);
    return reportVerify(result, io);
  } finally {
    await source.close();
  }
}

function reportVerify(result: { problems: string[]; digest: string; records: number }, io: BackupIo): number {
  io.stdout(`${result.records} records, digest sha256:${result.digest}\n`);
  if (!result.problems.length) {
    io.stdout('no problems found\n');
    return 0;
  }
  io.stdout(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} found:\n${result.problems.map((p) => `  ${p}\n`).join('')}`);
  return 1;
}

/**
 * Asks the store running on this data dir for a backup, over its loopback API with the launch
 * token from `server.json` (or API_STORE_TOKEN, when the server was started with it).
 */
async function backupThroughServer(dataDir: string, env: NodeJS.ProcessEnv): Promise<SnapshotInfo> {
  const info = await runningServerOn(dataDir, env);
  if (!info) throw new CommandFailed(`the store in ${dataDir} is in use by the desktop app: use "Back up now" in its tray menu, or quit it and run this again.`);
  const token = info.token;
  if (!token) {
    throw new CommandFailed(`the store in ${dataDir} is running without a launch token here (multi-user mode): back up with POST /backups as an admin, or stop it and run this again.`);
  }
  let response: Response;
  try {
    response = await fetch(`${info.url}/backups`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  } catch (error) {
    throw new CommandFailed(`the running store at ${info.url} did not answer (${(error as Error).message}).`);
  }
  const body = await response.text();
  if (response.status !== 201) throw new CommandFailed(`the running store refused the backup (${response.status}): ${body}`);
  return JSON.parse(body) as SnapshotInfo;
}
