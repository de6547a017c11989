import { SEP_END } from './file-records.js';
import type { EntrySource } from './paging.js';
import { leapfrogJoin, type TermSeek } from './search-terms.js';
import type { KeyRange, Storage, StorageReader, WriteStaging } from './storage.js';

/**
 * A search index kept as postings, for records written in batches (history): one index record per
 * term and run of records, where a term-per-record index would write one key per term and record
 * (66 for a typical history entry, each a LevelDB record of its own).
 *
 * A run is a set of record keys written together: `runs` maps the run's key (its smallest record
 * key, at position 0) to its record keys by position, `''` where a record was removed. Runs never
 * overlap: every record key lies between the key of its run and the largest key the run holds,
 * and no other run starts in that range. A new batch's keys form new runs in the gaps between
 * runs; a key that falls inside a run is kept apart (`insideRunsOf`), so a run never grows once
 * written. Records written one after another get growing keys, so a batch usually forms one new
 * run after every other.
 *
 * A postings record is `{prefix}{run key}` (the prefix names the scope and term, and ends in
 * `\0`) in the term's section; its value lists the positions of the run's records holding the
 * term (`encodePositions`). Reading a term's postings records newest run first gives its record
 * keys newest first, run by run (a record kept apart sorted in with the run around it), so a
 * search joins terms as it would join one key per record.
 */

/** What one record brings to the index: its key and the terms it is found under, by scope. */
export interface Posting {
  key: string;
  scopes: PostingScope[];
}

/** Terms of a record in one scope: their postings records are `{scope}{term}\0{run key}` in `section`. */
export interface PostingScope {
  section: string;
  /** The scope's key prefix, ending in `\0`. */
  scope: string;
  terms: Iterable<string>;
}

/** Record keys a new run holds at most. */
const RUN_SIZE = 1000;

interface Run {
  key: string;
  /** Record keys by position; `''` where removed. */
  keys: string[];
  /** The largest key it holds: a new key between the run's own and this one falls inside it. */
  last: string;
}

const largestKey = (keys: string[]) => keys.reduce((largest, key) => (key > largest ? key : largest), '');

/** The run that would hold `key`: the last one starting at or below it. */
async function runAtOrBelow(storage: Storage, runs: string, key: string): Promise<Run | undefined> {
  const [found] = await storage.entryList<string[]>(runs, { lte: key, reverse: true, limit: 1 });
  return found && { key: found[0], keys: found[1], last: largestKey(found[1]) };
}

/**
 * Where `meta` keeps the largest key any run of `runs` ever held: a batch above it overlaps no run,
 * which one read of a key tells (a reverse seek in the runs costs ten times more).
 */
const topKeyOf = (runs: string) => `${runs}:top`;

const rangeText = (start: number, end: number) => (start === end ? `${start}` : `${start}-${end}`);

/** The ranges of a positions text, as `[start, end]`. */
const rangesOf = (text: string) => text.split(',').map((part) => part.split('-').map(Number) as [number, number?]);

/** Positions in ascending order, as ranges: `0-999` or `3,7-9`; a term every record of a run holds costs a few bytes. */
export function encodePositions(positions: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < positions.length; i++) {
    const start = positions[i];
    while (positions[i + 1] === positions[i] + 1) i++;
    parts.push(rangeText(start, positions[i]));
  }
  return parts.join(',');
}

export function decodePositions(text: string): number[] {
  const positions: number[] = [];
  for (const [start, end = start] of rangesOf(text)) for (let position = start; position <= end; position++) positions.push(position);
  return positions;
}

/** A positions text without `removed` (ascending), cut range by range: one removal from `0-999` costs a few parts, not a thousand positions. */
export function withoutPositions(text: string, removed: number[]): string {
  const parts: string[] = [];
  let next = 0;
  for (const [start, end = start] of rangesOf(text)) {
    let from = start;
    for (; next < removed.length && removed[next] <= end; next++) {
      if (removed[next] < from) continue;
      if (removed[next] > from) parts.push(rangeText(from, removed[next] - 1));
      from = removed[next] + 1;
    }
    if (from <= end) parts.push(rangeText(from, end));
  }
  return parts.join(',');
}

/** The key of a term's postings record for a run. */
const postingsKey = (scope: string, term: string, runKey: string) => `${scope}${term}\0${runKey}`;

/** The `[section, key]` of each postings record a record has alone, in the run of one keyed by its own key. */
function* ownRecordsOf(posting: Posting): Iterable<[string, string]> {
  for (const { section, scope, terms } of posting.scopes) for (const term of terms) yield [section, postingsKey(scope, term, posting.key)];
}

/** Positions of the records holding each term, by run key, section, scope and term. */
type TermPositions = Map<string, Map<string, Map<string, Map<string, number[]>>>>;

function entryOf<K, V>(map: Map<K, V>, key: K, made: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = made()));
  return value;
}

/** Notes that the record at `position` of run `runKey` holds each of the posting's terms. */
function addTerms(positions: TermPositions, posting: Posting, runKey: string, position: number): void {
  const run = entryOf(positions, runKey, () => new Map());
  for (const { section, scope, terms } of posting.scopes) {
    const byTerm = entryOf(entryOf(run, section, () => new Map()), scope, () => new Map<string, number[]>());
    for (const term of terms) entryOf(byTerm, term, () => []).push(position);
  }
}

interface PostingsRecord {
  run: string;
  section: string;
  key: string;
  positions: number[];
}

/** The postings records `positions` make. */
function* recordsOf(positions: TermPositions): Iterable<PostingsRecord> {
  for (const [run, sections] of positions) {
    for (const [section, scopes] of sections) {
      for (const [scope, terms] of scopes) {
        for (const [term, held] of terms) yield { run, section, key: postingsKey(scope, term, run), positions: held };
      }
    }
  }
}

/** What `records` hold now, read in one go per section. */
async function storedValues<P extends Pick<PostingsRecord, 'section' | 'key'>>(storage: StorageReader, records: P[]): Promise<(string | undefined)[]> {
  const bySection = new Map<string, P[]>();
  for (const record of records) entryOf(bySection, record.section, () => []).push(record);
  const values = new Map<P, string | undefined>();
  for (const [section, list] of bySection) {
    const stored = await storage.getMany<string>(section, list.map((record) => record.key));
    list.forEach((record, i) => values.set(record, stored[i]));
  }
  return records.map((record) => values.get(record));
}

/**
 * The section of the records kept apart: a record whose key falls inside a run already written
 * (an import of old entries among newer ones) does not join that run, so that no user's writes
 * make another user's run grow: it is a run of one of its own, listed here, its postings records
 * holding `INSIDE`. Runs then never change but by removals.
 */
export const insideRunsOf = (runs: string) => `${runs}-inside`;

/** The value of a postings record of a record kept apart (see `insideRunsOf`): position 0, read with the run around it. */
const INSIDE = 'inside';

/** Stages a record kept apart: its postings records, one per term, each naming only it. */
function putInside(m: WriteStaging, runs: string, posting: Posting): void {
  m.put(insideRunsOf(runs), posting.key, 0);
  for (const [section, key] of ownRecordsOf(posting)) m.put(section, key, INSIDE);
}

/**
 * Stages the index records of new records in the mutation's batch: new runs in the gaps between
 * existing runs (at most `RUN_SIZE` keys each), and the keys that fall inside a run kept apart.
 */
export async function addPostings(m: WriteStaging, storage: Storage, runs: string, postings: Posting[]): Promise<void> {
  if (!postings.length) return;
  const sorted = [...postings].sort((a, b) => (a.key < b.key ? -1 : 1));
  const [first, last] = [sorted[0].key, sorted[sorted.length - 1].key];
  // Usually the batch lies above every run (one read tells), or in one gap between runs (an
  // import of older entries: one seek tells). Otherwise each key finds its run by one seek, so that
  // a batch spanning years of others' runs costs its own size, not theirs.
  const top = await storage.get<string>('meta', topKeyOf(runs));
  if (top === undefined || top < last) m.put('meta', topKeyOf(runs), last);
  const belowLast = top !== undefined && top >= first ? await runAtOrBelow(storage, runs, last) : undefined;
  const overlaps = belowLast !== undefined && (belowLast.key > first || belowLast.last >= first);
  const added: TermPositions = new Map();
  let group: Posting[] = [];
  let groupGap: string | undefined;
  const closeGroup = () => {
    if (!group.length) return;
    const key = group[0].key;
    m.put(runs, key, group.map((posting) => posting.key));
    // A run of one (what each sent request's history entry makes) lists position 0 under each term.
    if (group.length === 1) for (const [section, recordKey] of ownRecordsOf(group[0])) m.put(section, recordKey, '0');
    else group.forEach((posting, position) => addTerms(added, posting, key, position));
    group = [];
  };
  for (const posting of sorted) {
    const run = overlaps ? await runAtOrBelow(storage, runs, posting.key) : undefined;
    if (run && run.last >= posting.key) {
      // Already there when a migration that was cut short runs again.
      const indexed = run.keys.includes(posting.key) || (await storage.get(insideRunsOf(runs), posting.key)) !== undefined;
      if (!indexed) putInside(m, runs, posting);
      continue;
    }
    // In the gap above `run`: with the keys before it in the same gap.
    const gap = run?.key ?? '';
    if (gap !== groupGap || group.length === RUN_SIZE) closeGroup();
    group.push(posting);
    groupGap = gap;
  }
  closeGroup();
  for (const record of recordsOf(added)) m.put(record.section, record.key, encodePositions(record.positions));
}

/**
 * Stages the removal of records from the index in the mutation's batch: their positions leave
 * their terms' postings and their runs. A run left empty goes with all its postings records,
 * which are then deleted without being read (retention removes the oldest runs whole).
 */
export async function removePostings(m: WriteStaging, storage: Storage, runs: string, postings: Posting[]): Promise<void> {
  const sorted = [...postings].sort((a, b) => (a.key < b.key ? -1 : 1));
  const touched = new Map<string, Run>();
  const apart = new Set<string>();
  const removed: TermPositions = new Map();
  let run: Run | undefined;
  for (const posting of sorted) {
    if (!run?.keys.includes(posting.key)) {
      const found = await runAtOrBelow(storage, runs, posting.key);
      run = found && (touched.get(found.key) ?? found);
    }
    const position = run ? run.keys.indexOf(posting.key) : -1;
    if (!run || position < 0) {
      // Kept apart (see `insideRunsOf`), or one the index lacks (verify reports it) or named twice.
      if (!apart.has(posting.key) && (await storage.get(insideRunsOf(runs), posting.key)) !== undefined) {
        apart.add(posting.key);
        m.del(insideRunsOf(runs), posting.key);
        for (const [section, key] of ownRecordsOf(posting)) m.del(section, key);
      }
      continue;
    }
    run.keys[position] = '';
    touched.set(run.key, run);
    addTerms(removed, posting, run.key, position);
  }
  const emptied = new Set<string>();
  for (const [key, { keys }] of touched) {
    if (keys.some((held) => held !== '')) m.put(runs, key, keys);
    else {
      m.del(runs, key);
      emptied.add(key);
    }
  }
  const records = [...recordsOf(removed)];
  const kept = records.filter((record) => !emptied.has(record.run));
  const held = new Map((await storedValues(storage, kept)).map((value, i) => [kept[i], value]));
  for (const record of records) {
    const before = held.get(record);
    const left = before === undefined ? '' : withoutPositions(before, record.positions.sort((a, b) => a - b));
    if (left) m.put(record.section, record.key, left);
    else m.del(record.section, record.key);
  }
}

/**
 * Postings records one read of a term takes at first, and at most after reads that each served
 * several seeks. One record may hold a whole batch's keys (up to `RUN_SIZE`): a first page of a
 * common term needs one.
 */
const MIN_READ = 1;
const MAX_READ = 256;

/** The runs a search has read, each read once whatever the number of its terms. */
function runReader(storage: StorageReader, runs: string): (keys: string[]) => Promise<(string[] | undefined)[]> {
  const read = new Map<string, Promise<string[] | undefined>>();
  return async (keys) => {
    const missing = keys.filter((key) => !read.has(key));
    if (missing.length) {
      const values = storage.getMany<string[]>(runs, missing);
      missing.forEach((key, i) => read.set(key, values.then((found) => found[i])));
    }
    return Promise.all(keys.map((key) => read.get(key)!));
  };
}

/**
 * A term's record keys newest first, for a join that only moves down: `seek(bound, inclusive)`
 * answers the first key at or below `bound`. Postings records are read newest run first, a few
 * at a time (more when reads serve several seeks, as in search-terms.ts); a seek far below reads
 * from the run that may hold `bound` and skips every run above it.
 */
function termCursor(storage: StorageReader, readRuns: ReturnType<typeof runReader>, section: string, prefix: string, from: string): TermSeek {
  let keys: string[] = [];
  let at = 0;
  let served = 0;
  let size = MIN_READ;
  /** The run key of the last postings record read: the next read continues below it. */
  let lastRun: string | undefined;
  /** Keys of records kept apart, read but not yet placed among the keys of the run around them. */
  const apart: string[] = [];
  let ended = false;
  return async (bound, inclusive) => {
    const past = (key: string) => bound === undefined || (inclusive ? key <= bound : key < bound);
    for (;;) {
      while (at < keys.length && !past(keys[at])) at++;
      if (at < keys.length) {
        served += 1;
        return keys[at];
      }
      if (ended) return undefined;
      size = served > 1 ? Math.min(size * 2, MAX_READ) : MIN_READ;
      const range: KeyRange = { gte: prefix, reverse: true, limit: size };
      // A run starting above `bound` holds no key at or below it.
      if (bound !== undefined && (lastRun === undefined || bound < lastRun)) range.lte = prefix + bound;
      else if (lastRun !== undefined) range.lt = prefix + lastRun;
      else range.lt = prefix.slice(0, -1) + SEP_END;
      const records = await storage.entryList<string>(section, range);
      const runKeys = records.map(([recordKey]) => recordKey.slice(prefix.length));
      // The first key of a run is its own key: a record of a run's first record alone (every
      // record of a run of one, as one request's history entry makes) needs no read of the run.
      const longer = runKeys.filter((_, i) => records[i][1] !== '0' && records[i][1] !== INSIDE);
      const read = await readRuns(longer);
      const runOf = new Map(longer.map((key, i) => [key, read[i]]));
      [keys, at, served, ended] = [[], 0, 0, records.length < size];
      for (const [i, [, positions]] of records.entries()) {
        const runKey = (lastRun = runKeys[i]);
        // A record kept apart lies inside a run below it: it waits to be sorted with that run's keys.
        if (positions === INSIDE) {
          apart.push(runKey);
          continue;
        }
        const run = runOf.get(runKey);
        const held = decodePositions(positions).map((position) => (position === 0 ? runKey : run?.[position] ?? ''));
        keys.push(...[...held, ...apart.splice(0)].filter((key) => key !== '' && key >= from).sort().reverse());
        // Runs below this one hold keys below `from` only.
        if (runKey < from) {
          ended = true;
          break;
        }
      }
      if (ended) keys.push(...apart.splice(0).filter((key) => key >= from).sort().reverse());
    }
  };
}

/**
 * The record keys found under every one of `prefixes` (one per term, in `section`), newest first,
 * down to `from`: the terms' cursors joined as in search-terms.ts.
 */
export function postingsSearch(storage: StorageReader, runs: string, section: string, prefixes: string[], from = ''): EntrySource<string> {
  return async (count, after) => {
    const readRuns = runReader(storage, runs);
    const keys = await leapfrogJoin(prefixes.map((prefix) => termCursor(storage, readRuns, section, prefix, from)), count + 1, after);
    return { entries: keys.slice(0, count).map((key): [string, string] => [key, key]), more: keys.length > count };
  };
}

/** A postings index as verify sees it: where its runs and records are, and each record's terms. */
export interface PostingsIndex<R> {
  runs: string;
  /** The section of the indexed records. */
  records: string;
  sections: string[];
  scopesOf(record: R): PostingScope[];
}

/**
 * Verify's check of a postings index (an admin walk, never a request's): runs in key order that do
 * not overlap, holding every record of `records` once and nothing else, and postings records that
 * are exactly what the runs' records imply, no more.
 */
export async function checkPostings<R>(reader: StorageReader, index: PostingsIndex<R>, report: (section: string, key: string, problem: string) => void): Promise<void> {
  const recordKeys = reader.keys(index.records)[Symbol.asyncIterator]();
  let record = await recordKeys.next();
  const implied = new Map(index.sections.map((section) => [section, 0]));
  const apart = await reader.keyList(insideRunsOf(index.runs), {});
  let nextApart = 0;
  /** Checks a run's records (none after the last run) and those kept apart up to `end`, against the records and the postings. */
  const checkRun = async (runKey: string, keys: string[], end: string) => {
    const inside: string[] = [];
    for (; nextApart < apart.length && apart[nextApart] <= end; nextApart++) inside.push(apart[nextApart]);
    const [records, insideRecords] = [await reader.getMany<R>(index.records, keys), await reader.getMany<R>(index.records, inside)];
    const wanted: TermPositions = new Map();
    keys.forEach((key, position) => key !== '' && records[position] !== undefined && addTerms(wanted, { key, scopes: index.scopesOf(records[position]!) }, runKey, position));
    const expected = [...recordsOf(wanted)].map(({ section, key, positions }) => ({ section, key, value: encodePositions(positions) }));
    inside.forEach((key, i) => {
      if (insideRecords[i] === undefined) return;
      for (const [section, recordKey] of ownRecordsOf({ key, scopes: index.scopesOf(insideRecords[i]!) })) expected.push({ section, key: recordKey, value: INSIDE });
    });
    const stored = await storedValues(reader, expected);
    expected.forEach(({ section, key, value }, i) => {
      implied.set(section, (implied.get(section) ?? 0) + 1);
      if (stored[i] === undefined) report(section, key, 'missing: records hold its term');
      else if (stored[i] !== value) report(section, key, `lists ${stored[i]} where the records holding its term are ${value}`);
    });
    // The runs' keys (and those kept apart) and the records' keys, both in key order, must be the same.
    for (const key of [...keys.filter((held) => held !== ''), ...inside].sort()) {
      for (; !record.done && record.value < key; record = await recordKeys.next()) report(index.records, record.value, `record missing from ${index.runs}`);
      if (!record.done && record.value === key) record = await recordKeys.next();
      else report(index.runs, runKey, `holds ${key}, which is not in ${index.records}`);
    }
  };
  let previousEnd = '';
  for await (const [runKey, keys] of reader.entries<string[]>(index.runs)) {
    const held = keys.filter((key) => key !== '');
    if (!held.length) report(index.runs, runKey, 'a run that holds no record');
    if (runKey <= previousEnd) report(index.runs, runKey, 'overlaps the run before it');
    if (keys[0] !== runKey && keys[0] !== '') report(index.runs, runKey, 'does not start with its own key');
    if (held.some((key) => key < runKey)) report(index.runs, runKey, 'holds keys below its own');
    if (new Set(held).size !== held.length) report(index.runs, runKey, 'holds a key twice');
    if (apart.includes(runKey)) report(index.runs, runKey, 'also kept apart');
    previousEnd = largestKey(keys);
    await checkRun(runKey, keys, previousEnd);
  }
  await checkRun('', [], '\uffff');
  for (; !record.done; record = await recordKeys.next()) report(index.records, record.value, `record missing from ${index.runs}`);
  const top = await reader.get<string>('meta', topKeyOf(index.runs));
  if (previousEnd > (top ?? '')) report('meta', topKeyOf(index.runs), `is ${JSON.stringify(top)}, below the key ${previousEnd} a run holds`);
  for (const section of index.sections) {
    let stored = 0;
    for await (const _key of reader.keys(section)) stored += 1;
    if (stored !== implied.get(section)) report(section, '', `holds ${stored} postings records where the runs' records imply ${implied.get(section)}`);
  }
}
