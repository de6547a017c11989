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

/**
 * The records (keys after the prefixes) found under every one of `prefixes` (one per term, in
 * one scope of one index section), in key order or reverse, from `from` on: a leapfrog join, where
 * each term in turn skips to the next record at or past the current candidate, so the cost follows
 * the rarest term's records, not the others'.
 */
export function intersection(storage: Storage, section: string, prefixes: string[], options: { reverse: boolean; from?: string }): EntrySource<string> {
  const { reverse, from = '' } = options;
  const next = async (prefix: string, bound: string | undefined, inclusive: boolean, limit: number): Promise<string[]> => {
    const range: KeyRange = { reverse, limit };
    const lower = prefix + from;
    const upper = prefix.slice(0, -1) + SEP_END;
    if (reverse) {
      range.gte = lower;
      if (bound === undefined) range.lt = upper;
      else range[inclusive ? 'lte' : 'lt'] = prefix + bound;
    } else {
      range.lt = upper;
      if (bound === undefined) range.gte = lower;
      else range[inclusive ? 'gte' : 'gt'] = prefix + bound;
    }
    const keys: string[] = [];
    for await (const key of storage.keys(section, range)) keys.push(key.slice(prefix.length));
    return keys;
  };
  return async (count, after) => {
    if (prefixes.length === 1) {
      const keys = await next(prefixes[0], after, false, count + 1);
      return { entries: keys.slice(0, count).map((key): [string, string] => [key, key]), more: keys.length > count };
    }
    const found: string[] = [];
    let bound = after;
    while (found.length <= count) {
      let [candidate] = await next(prefixes[0], bound, false, 1);
      for (let agreed = 1, term = 1; candidate !== undefined && agreed < prefixes.length; term = (term + 1) % prefixes.length) {
        const [key] = await next(prefixes[term], candidate, true, 1);
        if (key === candidate) agreed += 1;
        else [candidate, agreed] = [key, 1];
      }
      if (candidate === undefined) break;
      found.push(candidate);
      bound = candidate;
    }
    return { entries: found.slice(0, count).map((key): [string, string] => [key, key]), more: found.length > count };
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
