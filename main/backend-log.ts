import { constants } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ensurePrivateDir } from '../backend/src/data-dir.js';

export interface RotatingLogOptions {
  /** The log file's folder: created 0700 (or checked, like the data folder). */
  dir: string;
  /** e.g. `backend` for backend.log, then backend.1.log … backend.<keep>.log. */
  name: string;
  /** Past this size the file is rotated before the next write. */
  maxBytes: number;
  /** How many rotated files are kept beside the current one. */
  keep: number;
  /** Where the log reports its own failures; logging never stops the app. */
  onError?: (error: Error) => void;
}

/**
 * What the backend writes to the desktop log: warnings and errors. `info` adds a line per request,
 * which would make the log a record of the user's work.
 */
export const desktopLogLevel = 'warn';

/** The desktop's default: 5 files of at most 5 MiB. */
export const backendLogDefaults = { name: 'backend', maxBytes: 5 * 1024 * 1024, keep: 4 };

/**
 * An append-only log file, 0600 in a private folder, rotated by size: the backend's output in the
 * desktop app. It never emits an error (a full disk must not take the app down); failures go to
 * `onError` and the line is dropped.
 */
export function rotatingLog(options: RotatingLogOptions): Writable {
  const { dir, name, maxBytes, keep } = options;
  const fileOf = (index: number) => join(dir, index === 0 ? `${name}.log` : `${name}.${index}.log`);
  const report = options.onError ?? ((error: Error) => process.stderr.write(`api-store: the log could not be written: ${error.message}\n`));
  let handle: FileHandle | undefined;
  let size = 0;

  async function openCurrent(): Promise<void> {
    handle = await open(fileOf(0), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0), 0o600);
    // A file left by an earlier version may have the default mode.
    await handle.chmod(0o600);
    size = (await handle.stat()).size;
  }

  async function rotate(): Promise<void> {
    await handle?.close();
    handle = undefined;
    for (let index = keep - 1; index >= 0; index--) {
      await rename(fileOf(index), fileOf(index + 1)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    await openCurrent();
  }

  return new Writable({
    construct(done) {
      ensurePrivateDir(dir)
        .then(openCurrent)
        .catch(report)
        .finally(() => done());
    },
    write(chunk: Buffer, _encoding, done) {
      (async () => {
        if (!handle) await openCurrent();
        else if (size > 0 && size + chunk.length > maxBytes) await rotate();
        await handle!.write(chunk);
        size += chunk.length;
      })()
        .catch(report)
        .finally(() => done());
    },
    final(done) {
      void (handle?.close() ?? Promise.resolve()).catch(report).finally(() => done());
    },
  });
}
