import { createCipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { PageRequest } from '../store/paging.js';
import { ApiError } from './problem.js';

/**
 * List cursors. A cursor holds the list's filters and position, encrypted and authenticated with
 * its scope, the list it belongs to and the caller, which it does not carry: it therefore resumes
 * only that list, for that caller and with its own filters; anywhere else, and when tampered
 * with, it is a 400 `invalid_cursor`. Encrypted rather than only signed, so that a cursor reveals
 * nothing of the index it points into.
 *
 * The construction is a synthetic IV (as in RFC 5297): the IV is an HMAC of the scope and the
 * payload, and the payload is AES-CTR encrypted under it. Unlike a random-nonce AEAD it has no
 * limit on how many cursors one key may seal.
 */

/** Which list a cursor belongs to. */
export interface CursorScope {
  /** The route with the path parameters that name the list, e.g. `/files/K/revisions`. */
  route: string;
  /** The caller. */
  user: string;
}

/** A list's filters as its query states them; undefined ones are not set. */
export type ListFilters = Record<string, string | number | undefined>;

/** One list request, opened from its query. */
export interface ListRequest<F extends ListFilters, P> {
  /** The filters of the list: the cursor's when one is given, else the request's. */
  filters: F;
  /** What the store reads: the page size and byte budget, and where to resume (absent on a first page). */
  page: PageRequest<P>;
  /** The `{items, cursor?}` body: the cursor, resuming after `next` with the same filters, is absent on the last page. */
  body<T>(items: T[], next: P | undefined): { items: T[]; cursor?: string };
}

export interface Cursors {
  /**
   * Opens a list request. Without a cursor it starts at the request's filters. With one, the
   * cursor must have been issued for this scope, its position must fit `position`, and each
   * filter the request states must be the cursor's (a cursor alone continues its own filters).
   */
  open<F extends ListFilters, P>(
    scope: CursorScope,
    position: z.ZodType<P>,
    request: { cursor?: string; limit: number; filters: F },
  ): ListRequest<F, P>;
}

const IV_BYTES = 16;
const sealed = z.object({ filters: z.record(z.string(), z.union([z.string(), z.number()])), after: z.unknown() });

const invalid = (detail = 'The cursor is not one this store issued for this list.') => new ApiError('invalid_cursor', detail);

/** `key` is 32 secret bytes; `pageBytes` bounds the JSON of a page's items (a first item always fits). */
export function createCursors(key: Buffer, pageBytes: number): Cursors {
  const subkey = (use: string) => Buffer.from(hkdfSync('sha256', key, '', `cursor ${use}`, 32));
  const [macKey, encryptionKey] = [subkey('mac'), subkey('encryption')];
  const syntheticIv = (scope: CursorScope, payload: Buffer) =>
    createHmac('sha256', macKey).update(JSON.stringify([scope.route, scope.user, payload.toString('base64url')])).digest().subarray(0, IV_BYTES);
  // CTR mode: encrypting and decrypting are the same operation.
  const ctr = (iv: Buffer, data: Buffer) => {
    const cipher = createCipheriv('aes-256-ctr', encryptionKey, iv);
    return Buffer.concat([cipher.update(data), cipher.final()]);
  };

  const seal = (scope: CursorScope, payload: { filters: ListFilters; after: unknown }) => {
    const plain = Buffer.from(JSON.stringify(payload));
    const iv = syntheticIv(scope, plain);
    return Buffer.concat([iv, ctr(iv, plain)]).toString('base64url');
  };

  const unseal = (scope: CursorScope, cursor: string): z.infer<typeof sealed> => {
    const raw = Buffer.from(cursor, 'base64url');
    if (raw.length <= IV_BYTES || raw.toString('base64url') !== cursor) throw invalid();
    const iv = raw.subarray(0, IV_BYTES);
    const plain = ctr(iv, raw.subarray(IV_BYTES));
    if (!timingSafeEqual(iv, syntheticIv(scope, plain))) throw invalid();
    try {
      return sealed.parse(JSON.parse(plain.toString('utf8')));
    } catch {
      throw invalid();
    }
  };

  return {
    open<F extends ListFilters, P>(scope: CursorScope, position: z.ZodType<P>, request: { cursor?: string; limit: number; filters: F }) {
      let filters = request.filters;
      let after: P | undefined;
      if (request.cursor !== undefined) {
        const resumed = unseal(scope, request.cursor);
        for (const [name, value] of Object.entries(request.filters)) {
          if (value !== undefined && resumed.filters[name] !== value) throw invalid(`The cursor was issued for another ${name}.`);
        }
        const parsed = position.safeParse(resumed.after);
        if (!parsed.success) throw invalid();
        filters = resumed.filters as F;
        after = parsed.data;
      }
      const page: PageRequest<P> = { limit: request.limit, bytes: pageBytes, ...(after === undefined ? {} : { after }) };
      return {
        filters,
        page,
        body: <T>(items: T[], next: P | undefined) => (next === undefined ? { items } : { items, cursor: seal(scope, { filters, after: next }) }),
      };
    },
  };
}
