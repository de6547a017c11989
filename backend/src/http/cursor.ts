import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from './problem.js';

/**
 * Opaque list cursors: the position as JSON, signed so that a client cannot forge one and make
 * a list read from an arbitrary place. A tampered cursor is a 400 `invalid_cursor`.
 */
export interface Cursors {
  encode(position: unknown): string;
  decode<T>(cursor: string): T;
  /** The position a `?cursor=` resumes from; undefined for the first page. */
  resume<T>(cursor: string | undefined): T | undefined;
  /** A list's `{items, cursor?}` body: the cursor, pointing at `next`, is absent on the last page. */
  page<T>(items: T[], next: unknown): { items: T[]; cursor?: string };
}

export function createCursors(key: Buffer): Cursors {
  const sign = (data: string) => createHmac('sha256', key).update(data).digest().subarray(0, 16);
  const cursors: Cursors = {
    encode(position) {
      const data = Buffer.from(JSON.stringify(position)).toString('base64url');
      return `${data}.${sign(data).toString('base64url')}`;
    },
    decode<T>(cursor: string): T {
      const [data, mac, extra] = cursor.split('.');
      const given = Buffer.from(mac ?? '', 'base64url');
      const expected = sign(data ?? '');
      if (extra !== undefined || !data || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new ApiError('invalid_cursor', 'The cursor is not one this store issued.');
      }
      try {
        return JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as T;
      } catch {
        throw new ApiError('invalid_cursor', 'The cursor is not one this store issued.');
      }
    },
    resume: <T>(cursor: string | undefined) => (cursor === undefined ? undefined : cursors.decode<T>(cursor)),
    page: (items, next) => (next === undefined ? { items } : { items, cursor: cursors.encode(next) }),
  };
  return cursors;
}
