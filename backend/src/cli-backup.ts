/** `api-store backup | restore | verify`: keeping a data dir safe, from the command line. */
import { constants } from 'node:fs';
import { access, chmod, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBackup } from './backup/format.js';
import { restoreBackup } from './backup/restore.js';
import { backupsDirOf, type SnapshotInfo } from './backup/snapshots.js';
import { parseCommandArgs, UsageError } from './cli-args.js';
import { defaultDataDir } from './config.js';
import { runningServerOn } from './running-server.js';
import { openDataDir } from './store/open-data-dir.js';
import { StoreLockedError } from './store/open-errors.js';
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
    return reportVerify(result, io);
  }
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
