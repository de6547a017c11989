import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { z } from 'zod';
import { writePrivateFile } from '../data-dir.js';
import type { StorageReader, StoredRecord } from '../store/storage.js';

/**
 * The api-store backup file, version 1: gzip-compressed NDJSON (plain NDJSON reads too), one JSON
 * value per line.
 *
 *     {"format":"api-store-backup","version":1,"schema":1,"seq":1234,"created":1764590400000}
 *     ["files","3f2c…",{"key":"3f2c…","kind":"Core#Space",…}]
 *     …one [section, key, value] line per record, in section then key order…
 *     {"end":true,"records":5678,"sha256":"9b1e…"}
 *
 * The header names the format, its version, the store's schema version and its last change seq.
 * The trailer counts the records and carries the SHA-256 (hex) of every byte before it (header
 * and record lines, newlines included), so a truncated or altered file is refused before any of
 * it is used. Readers refuse a version newer than theirs.
 */
export const BACKUP_FORMAT = 'api-store-backup';
export const BACKUP_VERSION = 1;

const headerSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int().positive(),
  /** The schema version of the store it was taken from. */
  schema: z.number().int().nonnegative(),
  /** The store's last change seq at the time of the snapshot. */
  seq: z.number().int().nonnegative(),
  created: z.number(),
});
export type BackupHeader = z.infer<typeof headerSchema>;

const trailerSchema = z.object({ end: z.literal(true), records: z.number().int().nonnegative(), sha256: z.string() });
type Trailer = z.infer<typeof trailerSchema>;

/** A file that is not a complete, intact api-store backup this version can read. */
export class BackupFileError extends Error {
  constructor(file: string, problem: string) {
    super(`${file} cannot be restored: ${problem}`);
    this.name = 'BackupFileError';
  }
}

async function lastSeq(reader: StorageReader): Promise<number> {
  for await (const key of reader.keys('changes', { reverse: true, limit: 1 })) return Number(key);
  return 0;
}

/** Characters of lines handed to gzip at once. */
const CHUNK = 256 * 1024;

/**
 * Writes every record the reader sees (take it from a storage snapshot: one point in time) to
 * `file`, mode 0600, through `writePrivateFile`: renamed into place once complete, so a crash
 * never leaves a file that looks like a backup. Answers the number of records.
 */
export async function writeBackup(reader: StorageReader, file: string, now: number): Promise<{ records: number; header: BackupHeader }> {
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    schema: (await reader.get<number>('meta', 'schemaVersion')) ?? 0,
    seq: await lastSeq(reader),
    created: now,
  };
  let records = 0;
  // The lines go to gzip in chunks of about CHUNK characters: a stream write per record cost
  // most of a backup's time (38,000 records/s).
  async function* lines() {
    const hash = createHash('sha256');
    let chunk = `${JSON.stringify(header)}\n`;
    for await (const { section, key, value } of reader.records()) {
      records += 1;
      chunk += `${JSON.stringify([section, key, value])}\n`;
      if (chunk.length < CHUNK) continue;
      hash.update(chunk);
      yield chunk;
      chunk = '';
    }
    hash.update(chunk);
    yield `${chunk}${JSON.stringify({ end: true, records, sha256: hash.digest('hex') })}\n`;
  }
  const gzipped = createGzip();
  // Both settle before answering: a failed write has removed its partial file by then.
  const failed = (await Promise.allSettled([pipeline(Readable.from(lines()), gzipped), writePrivateFile(file, gzipped)])).find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return { records, header };
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Reads a backup, checking it as it goes: `onHeader` sees the header (and may refuse it by
 * throwing), `onRecord` each record in file order. The promise rejects with a `BackupFileError`
 * when the file turns out not to be a complete, intact backup, which may be after some records
 * were seen: write them somewhere you can throw away.
 */
export async function readBackup(
  file: string,
  handlers: { onHeader?(header: BackupHeader): Promise<void> | void; onRecord(record: StoredRecord): Promise<void> | void },
): Promise<{ header: BackupHeader; records: number }> {
  await stat(file).catch(() => {
    throw new BackupFileError(file, 'there is no such file.');
  });
  const source = createReadStream(file);
  const text = (await isGzip(file)) ? source.pipe(createGunzip()) : source;
  // A gzip error (a truncated or damaged stream) surfaces through the line reader below.
  let streamError: Error | undefined;
  text.on('error', (error: Error) => (streamError = error));
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  const hash = createHash('sha256');
  let header: BackupHeader | undefined;
  let trailer: Trailer | undefined;
  let records = 0;
  try {
    for await (const line of lines) {
      if (trailer) throw new BackupFileError(file, 'it has data after its trailer (altered).');
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new BackupFileError(file, header ? `line ${records + 2} is not JSON (altered or damaged).` : 'it is not an api-store backup.');
      }
      if (!header) {
        header = checkHeader(file, value);
        await handlers.onHeader?.(header);
      } else if (Array.isArray(value)) {
        const [section, key, record] = value as unknown[];
        if (value.length !== 3 || typeof section !== 'string' || typeof key !== 'string') throw new BackupFileError(file, `line ${records + 2} is not a record (altered).`);
        records += 1;
        await handlers.onRecord({ section, key, value: record });
      } else if (trailerSchema.safeParse(value).success) {
        trailer = value as Trailer;
        continue;
      } else {
        throw new BackupFileError(file, `line ${records + 2} is not a record (altered).`);
      }
      hash.update(`${line}\n`);
    }
  } catch (error) {
    if (error instanceof BackupFileError || !streamError) throw error;
    throw new BackupFileError(file, `it is damaged or truncated (${(error as Error).message}).`);
  } finally {
    lines.close();
    source.destroy();
  }
  if (streamError) throw new BackupFileError(file, `it is damaged or truncated (${streamError.message}).`);
  if (!header) throw new BackupFileError(file, 'it is empty.');
  if (!trailer) throw new BackupFileError(file, 'it is truncated: it ends before its trailer.');
  if (trailer.records !== records || trailer.sha256 !== hash.digest('hex')) throw new BackupFileError(file, 'its checksum does not match its contents (altered or damaged).');
  return { header, records };
}

function checkHeader(file: string, value: unknown): BackupHeader {
  const header = headerSchema.safeParse(value);
  if (!header.success) throw new BackupFileError(file, 'it is not an api-store backup.');
  if (header.data.version > BACKUP_VERSION) {
    throw new BackupFileError(file, `it is a version ${header.data.version} backup; this api-store reads version ${BACKUP_VERSION} and older. Update api-store.`);
  }
  return header.data;
}
