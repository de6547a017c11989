import type { KeyRange, Storage } from './storage.js';

export interface Page<T> {
  entries: [string, T][];
  /** The last key of this page when more entries follow; absent on the last page. */
  last?: string;
}

/**
 * Reads one page of a section in key order (or reverse), resuming strictly after `after`.
 * Reads `limit + 1` entries so the last page is known without another read.
 */
export async function readPage<T>(
  storage: Storage,
  section: string,
  range: KeyRange,
  limit: number,
  after?: string,
): Promise<Page<T>> {
  const bounded: KeyRange = { ...range, limit: limit + 1 };
  if (after !== undefined) {
    if (range.reverse) {
      delete bounded.lte;
      bounded.lt = range.lt !== undefined && range.lt < after ? range.lt : after;
    } else {
      delete bounded.gte;
      bounded.gt = range.gt !== undefined && range.gt > after ? range.gt : after;
    }
  }
  const entries: [string, T][] = [];
  for await (const entry of storage.entries<T>(section, bounded)) entries.push(entry);
  if (entries.length <= limit) return { entries };
  entries.length = limit;
  return { entries, last: entries[limit - 1][0] };
}
