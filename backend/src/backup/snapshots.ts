import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, isUnfinishedPrivateFile } from '../data-dir.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../store/storage.js';
import { writeBackup } from './format.js';

/**
 * The store's own backups, in `<dataDir>/backups/` (mode 0700, files 0600): one backup file each
 * (see format.ts), named `api-store-<UTC time>-<reason>.backup.gz`. The reason is `manual`
 * (`POST /backups`, the tray), `daily`, or `before-schema-<n>` (taken before migrating to schema
 * n). Each reason keeps its newest `keep` files, so daily ones never push out the backup taken
 * before an upgrade.
 */
export interface SnapshotInfo {
  name: string;
  /** Bytes on disk. */
  size: number;
  /** When it was taken (ms), from its name. */
  created: number;
  reason: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const namePattern = /^api-store-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z)(?:-(\d+))?-([a-z0-9-]+?)\.backup\.gz$/;

export const backupsDirOf = (dataDir: string) => join(dataDir, 'backups');

function snapshotName(created: number, reason: string, attempt: number): string {
  const stamp = new Date(created).toISOString().replace(/[:.]/g, '-');
  return `api-store-${stamp}${attempt ? `-${attempt}` : ''}-${reason}.backup.gz`;
}

function parseName(name: string): { created: number; reason: string } | undefined {
  const match = namePattern.exec(name);
  if (!match) return undefined;
  const [date, time] = match[1].split('T');
  const [h, m, s, ms] = time.slice(0, -1).split('-');
  return { created: Date.parse(`${date}T${h}:${m}:${s}.${ms}Z`), reason: match[3] };
}

/** The group a reason is pruned in: `before-schema-3` and `before-schema-4` share one. */
const groupOf = (reason: string) => reason.replace(/-\d+$/, '');

/** The snapshots in the folder, newest first; other files are left alone and not listed. */
export async function listSnapshots(dir: string): Promise<SnapshotInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: SnapshotInfo[] = [];
  for (const name of names) {
    const parsed = parseName(name);
    if (!parsed) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isFile()) found.push({ name, size: info.size, ...parsed });
  }
  return found.sort((a, b) => b.created - a.created || (a.name < b.name ? 1 : -1));
}

/** A full snapshot of the store into the folder, from one storage snapshot: consistent while writes go on. */
export async function takeSnapshot(storage: Storage, dir: string, reason: string, now: number): Promise<SnapshotInfo> {
  await ensurePrivateDir(dir);
  const existing = new Set(await readdir(dir));
  let attempt = 0;
  while (existing.has(snapshotName(now, reason, attempt))) attempt += 1;
  const name = snapshotName(now, reason, attempt);
  const snapshot = await storage.snapshot();
  try {
    await writeBackup(snapshot, join(dir, name), now);
  } finally {
    await snapshot.close();
  }
  const { size } = await stat(join(dir, name));
  return { name, size, created: now, reason };
}

/**
 * Removes all but the newest `keep` snapshots of each reason group, and what a crash left of a
 * snapshot being written (snapshots are taken one at a time, so none is being written now).
 */
export async function pruneSnapshots(dir: string, keep: number): Promise<string[]> {
  const seen = new Map<string, number>();
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (isUnfinishedPrivateFile(name, 'api-store-')) await rm(join(dir, name), { force: true });
  }
  for (const snapshot of await listSnapshots(dir)) {
    const group = groupOf(snapshot.reason);
    const count = (seen.get(group) ?? 0) + 1;
    seen.set(group, count);
    if (count > keep) {
      await rm(join(dir, snapshot.name), { force: true });
      removed.push(snapshot.name);
    }
  }
  return removed;
}

export interface Backups {
  /** `<dataDir>/backups/` */
  readonly dir: string;
  /** Takes a snapshot now and prunes its group; snapshots are taken one at a time. */
  take(reason: string): Promise<SnapshotInfo>;
  list(): Promise<SnapshotInfo[]>;
  /** Takes the daily snapshot when the newest is a day old (or there is none); the timer calls it. */
  checkDaily(): Promise<SnapshotInfo | undefined>;
  /** Stops the timer and waits for a running snapshot. */
  stop(): Promise<void>;
}

/**
 * The store's backups: on demand, and daily from a timer that checks every `checkEveryMs`
 * (unref'd: it never keeps the process alive). Time comes from `clock`, so tests move it.
 */
export function startBackups(
  storage: Storage,
  options: { dataDir: string; keep: number; checkEveryMs: number; clock: () => number; log: Logger },
): Backups {
  const dir = backupsDirOf(options.dataDir);
  // Snapshots and daily checks run one at a time: a check never misses a daily being written.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => {});
    return run;
  };
  const snapshotNow = async (reason: string) => {
    const snapshot = await takeSnapshot(storage, dir, reason, options.clock());
    const removed = await pruneSnapshots(dir, options.keep);
    options.log.info('backup taken', { name: snapshot.name, size: snapshot.size, removed: removed.length });
    return snapshot;
  };
  const take = (reason: string) => enqueue(() => snapshotNow(reason));
  const checkDaily = () =>
    enqueue(async () => {
      const newest = (await listSnapshots(dir)).find((snapshot) => snapshot.reason === 'daily');
      if (newest && options.clock() - newest.created < DAY_MS) return undefined;
      return snapshotNow('daily');
    });
  const timer = setInterval(() => {
    checkDaily().catch((error) => options.log.error('daily backup failed', { error: String(error) }));
  }, options.checkEveryMs).unref();
  return {
    dir,
    take,
    list: () => listSnapshots(dir),
    checkDaily,
    stop: async () => {
      clearInterval(timer);
      await queue;
    },
  };
}
