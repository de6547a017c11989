import type { KeyRange, Storage } from './storage.js';

/** What a list asks for: at most `limit` items and about `bytes` of their JSON, resuming after `after`. */
export interface PageRequest<P = string> {
  limit: number;
  /**
   * A page ends before the item that would take its items' JSON past this; the first item always
   * comes. Every HTTP list sets it (see `Cursors.open`); an in-process reader may leave it out.
   */
  bytes?: number;
  after?: P;
}

/** One page of a list; `last`, where the next page resumes, is absent on the last page. */
export interface Page<R> {
  items: R[];
  last?: string;
}

/** Up to `count` entries in order strictly after `after`, and whether more follow. */
export type EntrySource<T> = (count: number, after: string | undefined) => Promise<{ entries: [string, T][]; more: boolean }>;
type ReadEntries<T> = Awaited<ReturnType<EntrySource<T>>>;

/**
 * Reads up to `count` entries of a range in key order (or reverse), strictly after `after`, and
 * says whether more follow. `after` only ever narrows the range: both of its bounds stay, so no
 * position, however forged, reads outside it.
 */
async function readEntries<T>(storage: Storage, section: string, range: KeyRange, count: number, after?: string): Promise<ReadEntries<T>> {
  const bounded: KeyRange = { ...range, limit: count + 1 };
  if (after !== undefined) {
    if (range.reverse) {
      const upper = range.lt ?? range.lte;
      if (upper === undefined || after <= upper) {
        delete bounded.lte;
        bounded.lt = after;
      }
    } else {
      const lower = range.gt ?? range.gte;
      if (lower === undefined || after >= lower) {
        delete bounded.gte;
        bounded.gt = after;
      }
    }
  }
  const entries: [string, T][] = [];
  for await (const entry of storage.entries<T>(section, bounded)) entries.push(entry);
  const more = entries.length > count;
  if (more) entries.length = count;
  return { entries, more };
}

/**
 * One page of a list read from an index range: `select` maps each read chunk to the listed items
 * (`undefined` for an entry left out: not visible, not matching, dangling). A page ends at `limit`
 * items, at the byte budget, or after `budget` index entries (default `limit`), so a sparse filter
 * costs a bounded scan: the page may then come back short, or empty, with `last` set so that the
 * client continues from there.
 */
export function readPage<T, R>(
  storage: Storage,
  section: string,
  range: KeyRange,
  page: PageRequest & { budget?: number },
  select: (chunk: [string, T][]) => Promise<(R | undefined)[]>,
): Promise<Page<R>> {
  return readPageFrom((count, after) => readEntries<T>(storage, section, range, count, after), page, select);
}

/** `readPage` over any ordered source of entries (e.g. several index ranges merged). */
export async function readPageFrom<T, R>(
  source: EntrySource<T>,
  page: PageRequest & { budget?: number },
  select: (chunk: [string, T][]) => Promise<(R | undefined)[]>,
): Promise<Page<R>> {
  const { limit, budget = limit } = page;
  const items: R[] = [];
  let bytes = 0;
  let after = page.after;
  let scanned = 0;
  for (;;) {
    const { entries, more } = await source(Math.min(limit, budget - scanned), after);
    const selected = await select(entries);
    for (let i = 0; i < selected.length; i++) {
      const item = selected[i];
      if (item === undefined) continue;
      const size = page.bytes === undefined ? 0 : Buffer.byteLength(JSON.stringify(item));
      if (items.length > 0 && bytes + size > (page.bytes ?? Infinity)) return { items, last: after };
      items.push(item);
      bytes += size;
      after = entries[i][0];
      if (items.length === limit) return more || i < entries.length - 1 ? { items, last: after } : { items };
    }
    if (!more) return { items };
    scanned += entries.length;
    after = entries[entries.length - 1][0];
    if (scanned >= budget) return { items, last: after };
  }
}
