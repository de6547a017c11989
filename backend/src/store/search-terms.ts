/**
 * The terms of the search indexes (workspace files, history). Text is split into words (runs of
 * letters and digits, lower-cased); a record is indexed under each word and each of the word's
 * prefixes of `MIN_PREFIX` characters or more, all cut to `MAX_TERM` characters. A query matches
 * a record when each of its words starts one of the record's words: `exam` finds
 * `api.example.com`, and a word of one or two characters matches only a word equal to it.
 *
 * A search reads the index under one term of the query (its longest word) in the order of the
 * record keys and checks the other words on each record it finds: what the first page costs
 * depends on the records holding that word, not on the records that hold none.
 */

const MIN_PREFIX = 3;
export const MAX_TERM = 32;
/** Terms indexed per record at most, so that one huge record cannot add unbounded index entries. */
const MAX_TERMS = 1000;

const WORD = /[\p{L}\p{N}]+/gu;

export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** The index terms of some texts (duplicates removed), at most `MAX_TERMS`. */
export function termsOf(texts: string[]): Set<string> {
  const terms = new Set<string>();
  for (const text of texts) {
    for (const word of wordsOf(text)) {
      const cut = word.slice(0, MAX_TERM);
      for (let length = Math.min(MIN_PREFIX, cut.length); length <= cut.length; length++) {
        terms.add(cut.slice(0, length));
        if (terms.size >= MAX_TERMS) return terms;
      }
    }
  }
  return terms;
}

/** A parsed query: its words, and the term whose index entries a search reads. */
export interface TermQuery {
  words: string[];
  term: string;
}

/** `undefined` when the query has no word (only punctuation): nothing can match it. */
export function termQueryOf(query: string): TermQuery | undefined {
  const words = [...new Set(wordsOf(query))];
  if (!words.length) return undefined;
  const longest = words.reduce((a, b) => (b.length > a.length ? b : a));
  return { words, term: longest.slice(0, MAX_TERM) };
}

/**
 * Whether a record found under the query's term matches the whole query. `terms` are the
 * record's index terms; a word longer than `MAX_TERM` is also checked against the text itself.
 */
export function matchesTerms(query: TermQuery, terms: Set<string>, texts: string[]): boolean {
  return query.words.every(
    (word) => terms.has(word.slice(0, MAX_TERM)) && (word.length <= MAX_TERM || texts.some((text) => text.toLowerCase().includes(word))),
  );
}
