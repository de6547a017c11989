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

/**
 * A page of the entries `select` keeps (it maps each read chunk to results, `undefined` for one
 * left out), for lists that filter an index (visibility, a text query). It reads at most `budget`
 * entries, so a sparse filter costs a bounded scan: the page may then come back short, or empty,
 * with `last` set so that the client continues from there.
 */
export async function readFilteredPage<T, R>(
  storage: Storage,
  section: string,
  range: KeyRange,
  options: { limit: number; budget: number; after?: string },
  select: (chunk: [string, T][]) => Promise<(R | undefined)[]>,
): Promise<{ items: R[]; last?: string }> {
  const { limit, budget } = options;
  const items: R[] = [];
  let after = options.after;
  let scanned = 0;
  for (;;) {
    const page = await readPage<T>(storage, section, range, Math.min(limit, budget - scanned), after);
    const selected = await select(page.entries);
    for (let i = 0; i < selected.length; i++) {
      const item = selected[i];
      if (item === undefined) continue;
      items.push(item);
      const more = i < page.entries.length - 1 || page.last !== undefined;
      if (items.length === limit) return more ? { items, last: page.entries[i][0] } : { items };
    }
    if (page.last === undefined) return { items };
    scanned += page.entries.length;
    after = page.last;
    if (scanned >= budget) return { items, last: after };
  }
}
