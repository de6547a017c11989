/**
 * The data directory and the secret files in it (server.json, session.key, the LAN TLS key and
 * certificate) are trusted only when they are this user's alone. Another local user could
 * otherwise pre-create the folder, plant a symlink where a secret will be written, or plant a
 * key of their own. Every entry (the desktop app's backend, `--server`, `admin create`,
 * restoring a backup) goes through `ensurePrivateDir` before it writes anything.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

/** A data folder or secret file that is not safely this user's: the message says what to do. */
export class UntrustedPathError extends Error {}

const windows = process.platform === 'win32';
// O_NOFOLLOW and O_DIRECTORY do not exist on Windows, where the folder's ACL does the work.
const noFollow = constants.O_NOFOLLOW ?? 0;
const directory = constants.O_DIRECTORY ?? 0;

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

function refuseOwner(path: string, what: string, uid: number): void {
  const me = process.getuid?.();
  if (me !== undefined && uid !== me) {
    throw new UntrustedPathError(`${what} ${path} belongs to another user (uid ${uid}, not ${me}); api-store does not trust it. Remove it, or choose another --data-dir.`);
  }
}

const symbolicLink = (path: string, what: string) =>
  new UntrustedPathError(`${what} ${path} is a symbolic link; api-store does not follow it. Remove it, or choose another --data-dir.`);

/**
 * Why `path` could not be opened, in the words an operator needs: a link or another user's file
 * (which this user may not even be allowed to read) is a planted one. A missing file keeps its
 * ENOENT, so callers can create it.
 */
async function explainOpenError(error: unknown, path: string, what: string): Promise<never> {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
  const stats = await lstat(path).catch(() => undefined);
  if (stats?.isSymbolicLink()) throw symbolicLink(path, what);
  if (stats) refuseOwner(path, what, stats.uid);
  throw error;
}

/** Windows has no modes: the folder gets an ACL for its owner alone, which the files inherit. */
async function restrictAcl(path: string): Promise<void> {
  const { username } = userInfo();
  await promisify(execFile)('icacls', [path, '/inheritance:r', '/grant:r', `${username}:(OI)(CI)F`], { windowsHide: true });
}

/**
 * Creates `path` (and missing parents) at 0700, or checks an existing one: a symbolic link (or
 * junction) or a folder of another user is refused; a mode that lets others in is tightened to
 * 0700. On Windows the folder gets an owner-only ACL instead. The owner check and the chmod go
 * through one descriptor opened without following links, so the folder cannot be swapped in between.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const found = await lstat(path);
  if (found.isSymbolicLink()) throw symbolicLink(path, 'The data folder');
  if (!found.isDirectory()) throw new UntrustedPathError(`The data folder ${path} is not a folder.`);
  if (windows) return restrictAcl(path);
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | directory | noFollow);
  } catch (error) {
    return explainOpenError(error, path, 'The data folder');
  }
  try {
    const stats = await handle.stat();
    if (stats.ino !== found.ino || stats.dev !== found.dev) throw new UntrustedPathError(`The data folder ${path} was replaced while it was checked; api-store does not trust it.`);
    refuseOwner(path, 'The data folder', stats.uid);
    if (stats.mode & 0o077) await handle.chmod(0o700);
  } finally {
    await handle.close();
  }
}

/**
 * The data folder and the LevelDB folder inside it, both private (LevelDB creates its files with
 * the process umask, so the folders are what keep them from other users). Returns the LevelDB path.
 */
export async function ensureDataDir(dataDir: string): Promise<string> {
  await ensurePrivateDir(dataDir);
  const db = join(dataDir, 'db');
  await ensurePrivateDir(db);
  return db;
}

const TEMP_SUFFIX = '.tmp';

/** Whether a folder entry is what a crash left of a `writePrivateFile` of a file named `prefix`…. */
export const isUnfinishedPrivateFile = (entry: string, prefix: string) => entry.startsWith(`.${prefix}`) && entry.endsWith(TEMP_SUFFIX);

/**
 * Writes a secret (or a backup, streamed) as a new 0600 file beside `path` (created exclusively,
 * never through a link), then renames it into place: a link planted at `path` is replaced, not
 * followed, and a reader never sees a half-written file. The folder is expected to have passed
 * `ensurePrivateDir`.
 */
export async function writePrivateFile(path: string, content: string | Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | noFollow, 0o600);
  try {
    try {
      await writeFile(handle, content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Reads a secret written by `writePrivateFile`. Refused, with the reason, when it is a link, not
 * a regular file, another user's, or readable or writable by others: it may have been planted.
 * A missing file rejects with the usual ENOENT, so callers can create it.
 */
export async function readPrivateFile(path: string): Promise<string> {
  return (await readPrivateBytes(path)).toString('utf8');
}

/** `readPrivateFile` for a file that is not text; `what` names it in the refusal. */
export async function readPrivateBytes(path: string, what = 'The secret file'): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | noFollow);
  } catch (error) {
    return explainOpenError(error, path, what);
  }
  try {
    if (!windows) {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new UntrustedPathError(`${what} ${path} is not a regular file.`);
      refuseOwner(path, what, stats.uid);
      if (stats.mode & 0o077) {
        throw new UntrustedPathError(`${what} ${path} has mode ${octal(stats.mode)}, so other users can read or replace it; api-store does not trust it. Remove it (a new one is made) or chmod it to 0600.`);
      }
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
