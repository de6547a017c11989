import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { HistoryInputSchema } from '../../../backend/src/routes/history.js';
import { SEP_END } from '../../../backend/src/store/file-records.js';
import { compileMaskingRules, defaultHistoryMasking, maskHistoryEntry } from '../../../backend/src/store/history-masking.js';
import { createHistory, historyAccessOf, historyWordKeys, HISTORY_ENTRIES, type HistoryEntry } from '../../../backend/src/store/history.js';
import { openLevelStorage } from '../../../backend/src/store/level-storage.js';
import { intersection, leapfrogJoin, termQueryOf } from '../../../backend/src/store/search-terms.js';
import type { Storage, WriteOp } from '../../../backend/src/store/storage.js';
import { Store } from '../../../backend/src/store/store.js';
import { sortableTime } from '../../../backend/src/store/time-keys.js';
import { withFields } from '../../../backend/src/store/with-fields.js';
import { benchEntry } from './history.js';

/**
 * `npm run bench history-layout`: a prototype of the history search index as postings (one record
 * per scope, term and batch listing the batch's entries that hold the term), measured on a bare
 * LevelDB before building it. Writes: the records of one 1,000-entry batch of bench entries in
 * several layouts (today's, without search keys, with postings in their place, and leaner ones),
 * 20 batches each, JSON encoding inside the timed loop as in the history suite's storage floor,
 * each right after a floor run; then the CPU of what batch/create does before the store. Reads:
 * the first two pages (35) of the same queries on a store of LAYOUT_SEARCH_ENTRIES entries in
 * today's layout (one key per scope, term and entry, the store's own join) and in postings, which
 * must give the same keys. LAYOUT_VARIANTS (comma-separated names) picks layouts to write,
 * LAYOUT_SKIP_WRITES / LAYOUT_SKIP_READS leave out a half.
 */

const BATCH = 1000;
const BATCHES = Number(process.env.LAYOUT_BATCHES ?? 20);
const ROUNDS = Number(process.env.LAYOUT_ROUNDS ?? 3);
const SEARCH_ENTRIES = Number(process.env.LAYOUT_SEARCH_ENTRIES ?? 50_000);
const PAGE = 35;
/** A postings record's entries span at most this much time: a read that resumes below a key looks this far above it. */
const SPAN_MS = 60_000;

type Op = { section: string; key: string; value: unknown };
const cpuNow = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** The store's own records for one batch of bench entries (entries, list index keys, search keys, changes, counts). */
async function storeRecords(dir: string, first: number, count: number, created?: (i: number) => number): Promise<{ ops: WriteOp[]; entries: HistoryEntry[] }> {
  const storage = await openLevelStorage(join(dir, `capture-${first}`), { sync: false });
  const store = await Store.open(storage);
  let ops: WriteOp[] = [];
  const write = storage.write;
  storage.write = (batch) => {
    ops = batch;
    return write.call(storage, batch);
  };
  const inputs = Array.from({ length: count }, (_, i) => withFields(benchEntry(first + i), created ? { created: created(i) } : {}));
  const entries = await createHistory(store, historyAccessOf(storage, 'local'), inputs);
  await store.close();
  return { ops, entries };
}

/** Positions in a run as ranges, `0-999` or `3,7-9`: a term held by every entry of a batch costs a few bytes. */
function ranges(positions: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < positions.length; ) {
    let j = i;
    while (j + 1 < positions.length && positions[j + 1] === positions[j] + 1) j++;
    out.push(i === j ? `${positions[i]}` : `${positions[i]}-${positions[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function positionsOf(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const dash = part.indexOf('-');
    if (dash < 0) out.push(Number(part));
    else for (let p = Number(part.slice(0, dash)), end = Number(part.slice(dash + 1)); p <= end; p++) out.push(p);
  }
  return out;
}

const timeOf = (entryKey: string) => parseInt(entryKey.slice(0, 9), 36);
const POSTINGS = (section: string) => section.replace('history-words-by-', 'history-postings-by-');
const RUNS = 'history-runs';

/**
 * The postings of some entries (one batch): entries in key order cut into runs spanning at most
 * SPAN_MS; per run, one record of the run's keys and one postings record per (scope, term) keyed
 * by the run's newest key, holding the positions in the run of the entries with that term.
 */
function postingsOps(entries: HistoryEntry[]): Op[] {
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : 1));
  const ops: Op[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end + 1 < sorted.length && timeOf(sorted[end + 1].key) - timeOf(sorted[start].key) <= SPAN_MS) end++;
    const run = sorted.slice(start, end + 1);
    const runKey = run[run.length - 1].key;
    const postings = new Map<string, number[]>();
    run.forEach((entry, position) => {
      for (const [section, key] of historyWordKeys(entry)) {
        const id = `${POSTINGS(section)}\u0001${key.slice(0, key.lastIndexOf('\0') + 1)}`;
        let list = postings.get(id);
        if (!list) postings.set(id, (list = []));
        list.push(position);
      }
    });
    ops.push({ section: RUNS, key: runKey, value: run.map((entry) => entry.key) });
    for (const [id, positions] of postings) {
      const [section, prefix] = id.split('\u0001');
      ops.push({ section, key: prefix + runKey, value: ranges(positions) });
    }
    start = end + 1;
  }
  return ops;
}

/** What a batch would write besides entries and postings if its lists were postings and its change one record naming the keys. */
function leanExtras(puts: Op[], entries: HistoryEntry[], withData: boolean): Op[] {
  const runKey = entries.map((entry) => entry.key).sort().at(-1)!;
  const all = ranges(entries.map((_, i) => i));
  return [
    { section: 'history-postings-by-user', key: `local\0\0${runKey}`, value: all },
    { section: 'history-postings-by-app', key: `local\0bench\0\0${runKey}`, value: all },
    { section: 'changes', key: '0000000000000001', value: { operation: 'created', kind: 'Core#HttpHistory', ids: entries.map((entry) => entry.key), ...(withData && { data: entries }), paths: ['/history'], visibility: { user: 'local' }, seq: 1, time: 0 } },
    { section: 'changes-by-path', key: '/history\u00000000000000000001', value: 1 },
    ...puts.filter((op) => op.section === 'meta' || op.section === 'history-counts'),
  ];
}

async function writeVariant(dir: string, name: string, batches: (b: number) => Op[]): Promise<{ perSecond: number; cpuUs: number }> {
  const db = new Level<string, string>(join(dir, `${name}-${Math.random().toString(36).slice(2)}`));
  await db.open();
  const prepared = Array.from({ length: BATCHES }, (_, b) => batches(b));
  const [started, cpu] = [performance.now(), cpuNow()];
  for (const ops of prepared) {
    const batch = db.batch();
    for (const op of ops) batch.put(`!${op.section}!${op.key}`, JSON.stringify(op.value));
    await batch.write();
  }
  const ms = performance.now() - started;
  const result = { perSecond: (BATCHES * BATCH * 1000) / ms, cpuUs: ((cpuNow() - cpu) * 1000) / (BATCHES * BATCH) };
  await db.close();
  return result;
}

async function writes(dir: string): Promise<string[]> {
  const { ops, entries } = await storeRecords(dir, 0, BATCH);
  const puts = ops.filter((op): op is Op & WriteOp => op.type === 'put');
  const words = new Set(entries.flatMap((entry) => historyWordKeys(entry).map(([section, key]) => `${section}\u0001${key}`)));
  const withoutSearch = puts.filter((op) => !words.has(`${op.section}\u0001${op.key}`));
  const postings = postingsOps(entries);
  const onlyEntries = puts.filter((op) => op.section === HISTORY_ENTRIES);
  // A batch's own keys, as new entries' keys are: each batch's records moved to keys of their own.
  const distinct = (records: Op[]) => (b: number) => records.map((op) => ({ section: op.section, key: `${b}:${op.key}`, value: op.value }));
  const variants: [string, string, (b: number) => Op[]][] = [
    ['floor', 'the entries, one record each (the history suite\'s floor)', (b) =>
      Array.from({ length: BATCH }, (_, i) => {
        const key = String(b * BATCH + i).padStart(16, '0');
        return { section: 'floor', key, value: withFields(benchEntry(i), { key, user: 'local' }) };
      })],
    ['today', `today's records (${(puts.length / BATCH).toFixed(1)} per entry: entry, list index keys, ${(words.size / BATCH).toFixed(0)} search keys, change and its path index, counts)`, distinct(puts)],
    ['no search', `today's records without any search key (${(withoutSearch.length / BATCH).toFixed(1)} per entry)`, distinct(withoutSearch)],
    ['postings', `today's records without search keys, plus postings (${postings.length} records for the batch)`, distinct([...withoutSearch, ...postings])],
    ['entries + postings', 'the entries and their postings only (no list index keys, no per-entry change)', distinct([...onlyEntries, ...postings])],
    ['lean', 'the entries, their postings, the user and app lists as postings too, one change per batch naming its keys (and its path index), counts, key counter', distinct([...onlyEntries, ...postings, ...leanExtras(puts, entries, false)])],
    ['lean with data', 'the same, the batch\'s one change carrying its entries (as each change does today)', distinct([...onlyEntries, ...postings, ...leanExtras(puts, entries, true)])],
  ];
  const only = process.env.LAYOUT_VARIANTS?.split(',');
  const results = new Map<string, { perSecond: number; cpuUs: number }[]>(variants.map(([name]) => [name, []]));
  const ratios = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // The floor measured before each variant, so each ratio compares two neighbouring measurements.
    for (const [name, , batches] of variants.slice(1).filter(([name]) => !only || only.includes(name))) {
      const floor = await writeVariant(dir, 'floor', variants[0][2]);
      const ours = await writeVariant(dir, name, batches);
      results.get('floor')!.push(floor);
      results.get(name)!.push(ours);
      ratios.get(name)!.push(ours.perSecond / floor.perSecond);
    }
  }
  const list = (values: number[], digits: number) => values.map((value) => value.toFixed(digits)).join(', ');
  return [
    `Writes: ${BATCHES} batches of ${BATCH} bench entries per measurement, ${ROUNDS} rounds; each layout measured right after a floor run, ratio to that floor:`,
    '',
    '| records written | entries/s | CPU µs per entry | ratio to the floor run before it |',
    '|---|---|---|---|',
    ...variants.filter(([name]) => !only || name === 'floor' || only.includes(name)).map(([name, label]) => {
      const rows = results.get(name)!;
      return `| ${label} | ${list(rows.map((r) => r.perSecond), 0)} | ${list(rows.map((r) => r.cpuUs), 1)} | ${name === 'floor' ? '1' : list(ratios.get(name)!, 2)} |`;
    }),
    '',
    `Bytes per batch: entries ${(Buffer.byteLength(JSON.stringify(onlyEntries.map((op) => op.value))) / 1024).toFixed(0)} KiB, ` +
      `postings ${(Buffer.byteLength(JSON.stringify(postings.map((op) => op.value))) / 1024).toFixed(0)} KiB ` +
      `(${postings.length - 1} postings records and the run's record of its keys), today's search keys ${words.size} keys.`,
    '',
  ];
}

/** CPU per entry of what batch/create does before the store: parse the body, validate it, mask it. */
function requestWork(): string[] {
  const body = JSON.stringify(Array.from({ length: BATCH }, (_, i) => benchEntry(i)));
  const rules = compileMaskingRules(defaultHistoryMasking);
  const parsed = JSON.parse(body) as ReturnType<typeof benchEntry>[];
  const steps: [string, () => unknown][] = [
    ['JSON.parse of the body', () => JSON.parse(body)],
    ['zod validation (the route\'s schema)', () => HistoryInputSchema.array().parse(parsed)],
    ['masking (default rules)', () => parsed.map((entry) => maskHistoryEntry(entry, rules))],
    ['JSON.stringify of the entries (the floor does this too)', () => parsed.map((entry) => JSON.stringify(entry))],
  ];
  return [
    `What batch/create does per entry before the store, CPU µs per entry (best of 5 × ${BATCHES} batches of ${BATCH}):`,
    '',
    '| step | CPU µs per entry |',
    '|---|---|',
    ...steps.map(([name, step]) => {
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        const cpu = cpuNow();
        for (let b = 0; b < BATCHES; b++) step();
        best = Math.min(best, ((cpuNow() - cpu) * 1000) / (BATCHES * BATCH));
      }
      return `| ${name} | ${best.toFixed(1)} |`;
    }),
    '',
  ];
}

/**
 * Newest-first entry keys of one (scope, term) from its postings, for a join that only moves
 * down: `seek(bound, inclusive)` answers the first key at or below `bound`. Records are read
 * newest-key first; a key read is answered once no unread record can hold a newer one (each
 * unread record's keys are below the last record's newest key). A seek far below skips the
 * records that cannot hold a key at or below it (a record spans at most SPAN_MS).
 */
function postingsCursor(storage: Storage, section: string, prefix: string, runs: Map<string, Promise<string[]>>) {
  let buffer: string[] = [];
  let at = 0;
  let frontier: string | undefined;
  let ended = false;
  let size = 1;
  const runKeys = (runKey: string) => {
    let keys = runs.get(runKey);
    if (!keys) runs.set(runKey, (keys = storage.get<string[]>(RUNS, runKey).then((found) => found ?? [])));
    return keys;
  };
  return async (bound: string | undefined, inclusive: boolean): Promise<string | undefined> => {
    for (;;) {
      if (bound !== undefined) while (at < buffer.length && !(inclusive ? buffer[at] <= bound : buffer[at] < bound)) at++;
      if (at < buffer.length && (ended || buffer[at] >= frontier!)) return buffer[at];
      if (ended) return undefined;
      let upper = frontier === undefined ? prefix.slice(0, -1) + SEP_END : prefix + frontier;
      if (bound !== undefined) {
        const skip = prefix + sortableTime(timeOf(bound) + SPAN_MS + 1);
        if (skip < upper) upper = skip;
      }
      const records: [string, string][] = [];
      for await (const record of storage.entries<string>(section, { gte: prefix, lt: upper, reverse: true, limit: size })) records.push(record);
      ended = records.length < size;
      size = Math.min(size * 2, 16);
      const read = await Promise.all(
        records.map(async ([key, value]) => {
          const keys = await runKeys(key.slice(prefix.length));
          return positionsOf(value).map((position) => keys[position]);
        }),
      );
      if (records.length) frontier = records[records.length - 1][0].slice(prefix.length);
      buffer = [...buffer.slice(at), ...read.flat()].sort().reverse();
      at = 0;
    }
  };
}

/** The leapfrog join of search-terms.ts over postings cursors: up to `count` keys newest first, below `after`. */
async function postingsSearch(storage: Storage, terms: string[], count: number, after?: string): Promise<string[]> {
  const runs = new Map<string, Promise<string[]>>();
  const cursors = terms.map((term) => postingsCursor(storage, 'history-postings-by-user', `local\0${term}\0`, runs));
  return leapfrogJoin(cursors, count, after);
}

async function todaySearch(storage: Storage, terms: string[], count: number, after?: string): Promise<string[]> {
  const source = intersection(storage, 'history-words-by-user', terms.map((term) => `local\0${term}\0`), { reverse: true });
  const { entries } = await source(count, after);
  return entries.map(([key]) => key);
}

async function searches(dir: string): Promise<string[]> {
  const today = await openLevelStorage(join(dir, 'search-today'), { sync: false });
  const postings = await openLevelStorage(join(dir, 'search-postings'), { sync: false });
  const newest = Date.now();
  const [seedStarted, seedCpu] = [performance.now(), cpuNow()];
  for (let first = 0; first < SEARCH_ENTRIES; first += BATCH) {
    // One batch a second apart, oldest first, as a client logging as it goes; every fifth batch
    // instead has client-given times reaching 250 s back among the earlier batches (an import), so
    // the postings' runs overlap and are cut at their maximum span. No two entries share a key.
    const at = newest - (SEARCH_ENTRIES - first) * 1000;
    const imported = (first / BATCH) % 5 === 4;
    const { ops, entries } = await storeRecords(dir, first, BATCH, (i) => (imported ? at - (BATCH - i) * 250 - 7 : at));
    await rm(join(dir, `capture-${first}`), { recursive: true, force: true });
    await today.write(ops);
    const words = new Set(entries.flatMap((entry) => historyWordKeys(entry).map(([section, key]) => `${section}\u0001${key}`)));
    await postings.write([
      ...ops.filter((op) => !words.has(`${op.section}\u0001${op.key}`)),
      ...postingsOps(entries).map((op): WriteOp => ({ type: 'put', ...op })),
    ]);
  }
  const seeded = `Seeded ${SEARCH_ENTRIES.toLocaleString('en')} entries (a fifth of the batches with times reaching back among the others) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s (${((cpuNow() - seedCpu) / 1000).toFixed(1)} s CPU), in both layouts, one store each.`;
  const queries = ['shipped', '4242', 'customers 4242', 'orders shipped', 'nothing'];
  const rows: string[] = [];
  for (const query of queries) {
    const { terms } = termQueryOf(query)!;
    const timings: Record<string, number[]> = { today: [], postings: [], todayNext: [], postingsNext: [] };
    let found = 0;
    for (let i = 0; i < 60; i++) {
      for (const [name, storage, search] of [['today', today, todaySearch], ['postings', postings, postingsSearch]] as const) {
        let started = performance.now();
        const keys = await search(storage, terms, PAGE + 1);
        const page = await storage.getMany(HISTORY_ENTRIES, keys.slice(0, PAGE));
        timings[name].push(performance.now() - started);
        found = page.length;
        // The second page, resumed below the first page's last key.
        started = performance.now();
        if (keys.length > PAGE) await storage.getMany(HISTORY_ENTRIES, (await search(storage, terms, PAGE + 1, keys[PAGE - 1])).slice(0, PAGE));
        timings[`${name}Next`].push(performance.now() - started);
      }
    }
    const p50 = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)].toFixed(2);
    rows.push(`| \`${query}\` (${found} on the page) | ${p50(timings.today)} | ${p50(timings.postings)} | ${p50(timings.todayNext)} | ${p50(timings.postingsNext)} |`);
  }
  // Same answers in both layouts: the postings join must find exactly today's keys, on the first
  // pages and resumed after cursors at every depth (each 499th matching key).
  for (const query of queries) {
    const { terms } = termQueryOf(query)!;
    const all = await todaySearch(today, terms, SEARCH_ENTRIES);
    for (const after of [undefined, ...all.filter((_, i) => i % PAGE === PAGE - 1 && i < 3 * PAGE), ...all.filter((_, i) => i % 499 === 498)]) {
      const [a, b] = [await todaySearch(today, terms, PAGE, after), await postingsSearch(postings, terms, PAGE, after)];
      if (a.join() !== b.join()) throw new Error(`postings disagree with today's index on ${query} after ${after}`);
    }
  }
  await Promise.all([today.close(), postings.close()]);
  return [
    `Reads: ${seeded} First page (${PAGE}) of the user's search, keys joined then the entries read, p50 of 60 in ms, the two layouts alternating:`,
    '',
    "| query | today: page 1 | postings: page 1 | today: page 2 | postings: page 2 |",
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Both layouts gave the same keys for every query, on the first three pages and resumed after every 499th matching key.',
    '',
  ];
}

export async function run(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'api-store-bench-history-layout-'));
  try {
    const lines = ['### History search index as postings, a prototype on a bare LevelDB (`npm run bench history-layout`)', ''];
    if (process.env.LAYOUT_SKIP_WRITES === undefined) lines.push(...(await writes(dir)), ...requestWork());
    if (process.env.LAYOUT_SKIP_READS === undefined) lines.push(...(await searches(dir)));
    return lines.join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
