/**
 * The terms of the search indexes (workspace files, history). Text is split into words (runs of
 * letters and digits, lower-cased); a record is indexed under each word and each of the word's
 * prefixes of `MIN_PREFIX` characters or more, all cut to `MAX_TERM` characters. A query matches
 * a record when each of its words starts one of the record's words: `exam` finds
 * `api.example.com`. A word of one or two characters, and a word with a digit in it (`v2`,
 * `4242`, a hex id), matches only a word equal to it.
 *
 * Index keys are `{scope}\0{term}\0{record key}`, so each term's records are in key order and a
 * search joins the query's terms (see `intersection`): what the first page costs depends on the
 * records holding the query's words, not on the records that hold none.
 */

import { SEP_END } from './file-records.js';
import type { EntrySource } from './paging.js';
import type { KeyRange, Storage } from './storage.js';

const MIN_PREFIX = 3;
export const MAX_TERM = 32;
/** Terms indexed per record at most, so that one huge record cannot add unbounded index entries. */
const MAX_TERMS = 1000;

const WORD = /[\p{L}\p{N}]+/gu;
const HAS_DIGIT = /\p{N}/u;

export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/**
 * The index terms of some texts (duplicates removed), at most `MAX_TERMS`; the words of
 * `wholeWordTexts` are indexed without their prefixes (found by whole words only).
 */
export function termsOf(texts: string[], wholeWordTexts: string[] = []): Set<string> {
  const terms = new Set<string>();
  for (const [index, text] of [...texts, ...wholeWordTexts].entries()) {
    const prefixes = index < texts.length;
    for (const word of wordsOf(text)) {
      const cut = word.slice(0, MAX_TERM);
      // Words with digits (ids, numbers, hex) are found whole: their prefixes would be many and rarely searched.
      const shortest = !prefixes || HAS_DIGIT.test(cut) ? cut.length : Math.min(MIN_PREFIX, cut.length);
      for (let length = shortest; length <= cut.length; length++) {
        terms.add(cut.slice(0, length));
        if (terms.size >= MAX_TERMS) return terms;
      }
    }
  }
  return terms;
}

/** A parsed query: its words, and the index terms a record must all hold. */
export interface TermQuery {
  words: string[];
  terms: string[];
}

/** `undefined` when the query has no word (only punctuation): nothing can match it. */
export function termQueryOf(query: string): TermQuery | undefined {
  const words = [...new Set(wordsOf(query))];
  if (!words.length) return undefined;
  return { words, terms: [...new Set(words.map((word) => word.slice(0, MAX_TERM)))] };
}

/**
 * Whether a record holding every term of the query also holds its words longer than
 * `MAX_TERM` (the index knows their first `MAX_TERM` characters only).
 */
export function matchesLongWords(query: TermQuery, texts: () => string[]): boolean {
  const long = query.words.filter((word) => word.length > MAX_TERM);
  if (!long.length) return true;
  const lower = texts().map((text) => text.toLowerCase());
  return long.every((word) => lower.some((text) => text.includes(word)));
}

/** Keys one read of a term takes at first, and at most after reads that each served several seeks. */
const MIN_READ = 8;
const MAX_READ = 256;

interface TermScan {
  storage: Storage;
  section: string;
  /** `{scope}\0{term}\0`: the term's keys are the records after it. */
  prefix: string;
  reverse: boolean;
  /** Where the scan starts (a `since` time in history keys); '' for the start. */
  from: string;
}

/** Up to `limit` records of a term in scan order, at or past `bound` (strictly past unless `inclusive`). */
async function readTerm(scan: TermScan, bound: string | undefined, inclusive: boolean, limit: number): Promise<string[]> {
  const { prefix, reverse, from } = scan;
  const range: KeyRange = { reverse, limit };
  const [start, end] = [prefix + from, prefix.slice(0, -1) + SEP_END];
  if (reverse) {
    range.gte = start;
    if (bound === undefined) range.lt = end;
    else range[inclusive ? 'lte' : 'lt'] = prefix + bound;
  } else {
    range.lt = end;
    if (bound === undefined) range.gte = start;
    else range[inclusive ? 'gte' : 'gt'] = prefix + bound;
  }
  return (await scan.storage.keyList(scan.section, range)).map((key) => key.slice(prefix.length));
}

/**
 * A term's records for a join that only moves forward: `seek(bound, inclusive)` answers the first
 * record at or past `bound`. It reads ahead and answers from what it read while it can: a read
 * that served several seeks (a common term) makes the next read twice as long, one that served a
 * single seek (a term whose records lie far apart) makes it short again.
 */
function termCursor(scan: TermScan): TermSeek {
  let read: string[] = [];
  let at = 0;
  let served = 0;
  let ended = false;
  let size = MIN_READ;
  const past = (key: string, bound: string, inclusive: boolean) =>
    scan.reverse ? (inclusive ? key <= bound : key < bound) : inclusive ? key >= bound : key > bound;
  return async (bound: string | undefined, inclusive: boolean): Promise<string | undefined> => {
    if (bound !== undefined) while (at < read.length && !past(read[at], bound, inclusive)) at++;
    if (at < read.length) {
      served += 1;
      return read[at];
    }
    if (ended) return undefined;
    size = served > 1 ? Math.min(size * 2, MAX_READ) : MIN_READ;
    read = await readTerm(scan, bound, inclusive, size);
    [at, served, ended] = [0, 1, read.length < size];
    return read[0];
  };
}

/** A term's cursor for `leapfrogJoin`: the first key at or past `bound` in the join's order. */
export type TermSeek = (bound: string | undefined, inclusive: boolean) => Promise<string | undefined>;

/** Up to `limit` keys every one of `terms` holds, past `after`: each term in turn seeks the current candidate. */
export async function leapfrogJoin(terms: TermSeek[], limit: number, after?: string): Promise<string[]> {
  const found: string[] = [];
  let bound = after;
  while (found.length < limit) {
    let candidate = await terms[0](bound, false);
    for (let agreed = 1, term = 1; candidate !== undefined && agreed < terms.length; term = (term + 1) % terms.length) {
      const key = await terms[term](candidate, true);
      if (key === candidate) agreed += 1;
      else [candidate, agreed] = [key, 1];
    }
    if (candidate === undefined) break;
    found.push(candidate);
    bound = candidate;
  }
  return found;
}

/**
 * The records (keys after the prefixes) found under every one of `prefixes` (one per term, in
 * one scope of one index section), in key order or reverse, from `from` on: a leapfrog join, where
 * each term in turn skips to the next record at or past the current candidate, so the cost follows
 * the rarest term's records, not the others'.
 */
export function intersection(storage: Storage, section: string, prefixes: string[], options: { reverse: boolean; from?: string }): EntrySource<string> {
  const scans = prefixes.map((prefix): TermScan => ({ storage, section, prefix, reverse: options.reverse, from: options.from ?? '' }));
  const answer = (keys: string[], count: number) => ({ entries: keys.slice(0, count).map((key): [string, string] => [key, key]), more: keys.length > count });
  return async (count, after) => {
    if (scans.length === 1) return answer(await readTerm(scans[0], after, false, count + 1), count);
    return answer(await leapfrogJoin(scans.map(termCursor), count + 1, after), count);
  };
}

/** Several sources of keys merged in key order, without repeats: each read takes `count + 1` from every source. */
export function mergedSources(sources: EntrySource<string>[]): EntrySource<string> {
  return async (count, after) => {
    const read = await Promise.all(sources.map((source) => source(count + 1, after)));
    const keys = [...new Set(read.flatMap(({ entries }) => entries.map(([key]) => key)))].sort().slice(0, count + 1);
    return { entries: keys.slice(0, count).map((key): [string, string] => [key, key]), more: keys.length > count };
  };
}
