import { HISTORY_KIND, historyIndexKeys, historyTerms, type HistoryEntry } from '../../../backend/src/store/history.js';
import { withFields } from '../../../backend/src/store/with-fields.js';
import { measure, measureWithCpu, ratio, row, sequentialLatency, startBenchProcess, tableHeader, type BenchProcess } from '../load.js';

/**
 * History at volume: `POST /v1/history/batch/create` with 1,000-entry batches (target ≥ 100,000
 * entries/s), and the first page of `GET /v1/history` on a store of 10,000 entries, then of
 * 1,000,000 (target: within 1.5× of the 10,000 figure). The baseline serves the same list page
 * and parses the same batch body.
 */

const BATCH = 1000;
const SMALL = 10_000;
/** Override with HISTORY_BENCH_LARGE (e.g. 100000) for a quick run. */
const LARGE = Number(process.env.HISTORY_BENCH_LARGE ?? 1_000_000);
const SECONDS = 5;
/** A 1,000-entry batch takes seconds on a loaded machine: the writes run longer, so that a few dozen complete. */
const WRITE_SECONDS = 20;

/** A realistic logged request of about 600 bytes of JSON. */
export function benchEntry(n: number) {
  return {
    app: 'bench',
    log: {
      request: {
        url: `https://api.example.test/v1/customers/${n}/orders?expand=items&limit=50`,
        method: n % 5 === 0 ? 'POST' : 'GET',
        headers: 'accept: application/json\nuser-agent: api-client/1.0\nx-request-id: 0f5c8a7e-3d1b-4b8e-9d6f-2a1c3e5b7d9f',
        startTime: 1_700_000_000_000 + n,
      },
      response: {
        status: 200,
        statusText: 'OK',
        headers: 'content-type: application/json\ncontent-length: 1234\ncache-control: no-cache',
        payload: '{"id":123,"status":"shipped","items":[{"sku":"A-1","qty":2}]}',
        timings: { blocked: 0.4, dns: 1.2, connect: 3.4, ssl: 6.1, send: 0.2, wait: 42.7, receive: 1.9 },
      },
    },
  };
}

interface HistoryServer {
  baseUrl: string;
  token: string;
}

function seed(server: BenchProcess<HistoryServer>, count: number, newest: number): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve((message as { ms: number }).ms));
    server.child.send({ type: 'seed', count, newest });
  });
}

interface Floors {
  /** The same entries, one record each. */
  entriesPerSecond: number;
  /** The records the store writes for them. */
  sameRecordsPerSecond: number;
  recordsPerEntry: number;
}

function levelDbFloor(server: BenchProcess<HistoryServer>, seconds: number): Promise<Floors> {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve(message as Floors));
    server.child.send({ type: 'leveldb-floor', seconds });
  });
}

/**
 * `POST /history/batch/create` against the baseline parsing the same body, then the storage
 * floors (one record per entry, and the store's own records) on the same machine right after;
 * the server's CPU per entry does not depend on the machine's load.
 */
async function measureCreate(server: BenchProcess<HistoryServer>, baseline: BenchProcess<{ port: number }>) {
  const body = JSON.stringify(Array.from({ length: BATCH }, (_, i) => benchEntry(i)));
  const post = { method: 'POST' as const, body, headers: { Authorization: `Bearer ${server.info.token}`, 'Content-Type': 'application/json' }, connections: 8, seconds: WRITE_SECONDS };
  await putBaseline(baseline, '/v1/history/batch/create', { items: Array.from({ length: BATCH }, (_, i) => `key${i}`) });
  const baseCreate = await measure(`http://127.0.0.1:${baseline.info.port}/v1/history/batch/create`, post);
  // Before the run and as long: measured right after it, the floor competed with LevelDB compacting
  // what the run wrote, and a floor of a few batches never met a compaction (the two differed 3-4×).
  const floor = await levelDbFloor(server, WRITE_SECONDS);
  const create = await measureWithCpu(server.child.pid!, `${server.info.baseUrl}/history/batch/create`, post);
  const cpuPerEntryUs = create.cpuUs / BATCH;
  const entriesPerSecond = create.rps * BATCH;
  return {
    row: row(`POST /history/batch/create (${BATCH} entries, ${(body.length / 1024).toFixed(0)} KiB)`, create, baseCreate),
    summary:
      `**batch/create: ${entriesPerSecond.toFixed(0)} entries/s** (${create.errors + create.non2xx} errors), at most ${cpuPerEntryUs.toFixed(0)} µs of server CPU per entry; ` +
      `storage floor (the same entries, one record each, 1,000-entry batches on a bare LevelDB, for as long as the run) ${floor.entriesPerSecond.toFixed(0)} entries/s: ` +
      `**${(entriesPerSecond / floor.entriesPerSecond).toFixed(2)}×** (target ≥ 0.7×). The records the store writes for them ` +
      `(${floor.recordsPerEntry.toFixed(1)} per entry: the entry, its list index keys, its change and the change's path index, and per batch the search postings, the run and the counts), ` +
      `written the same way on a bare LevelDB: ${floor.sameRecordsPerSecond.toFixed(0)} entries/s; batch/create is ` +
      `${(entriesPerSecond / floor.sameRecordsPerSecond).toFixed(2)}× that floor.`,
  };
}

/** Only the write half of the suite (no million-entry seeding): `npm run bench history-write`. */
export async function runWrites(): Promise<string> {
  const server = await startBenchProcess<HistoryServer>(new URL('../history-server.ts', import.meta.url));
  const baseline = await startBenchProcess<{ port: number }>(new URL('../baseline-server.ts', import.meta.url));
  try {
    const create = await measureCreate(server, baseline);
    return [`### History writes (8 connections, ${WRITE_SECONDS} s; retention off)`, '', tableHeader, create.row, '', create.summary, ''].join('\n');
  } finally {
    await Promise.all([server.stop(), baseline.stop()]);
  }
}

function putBaseline(baseline: BenchProcess<{ port: number }>, key: string, value: unknown): Promise<void> {
  return new Promise((done) => {
    baseline.child.once('message', () => done());
    baseline.child.send({ type: 'put', key, value });
  });
}

export async function run(): Promise<string> {
  const server = await startBenchProcess<HistoryServer>(new URL('../history-server.ts', import.meta.url));
  const baseline = await startBenchProcess<{ port: number }>(new URL('../baseline-server.ts', import.meta.url));
  const baselineUrl = (path: string) => `http://127.0.0.1:${baseline.info.port}${path}`;
  try {
    const headers = { Authorization: `Bearer ${server.info.token}` };
    const newest = Date.now();
    const lines: string[] = [];
    const lists: { size: number; page: string; rps: number; p50: number; p99: number }[] = [];

    const measureLists = async (size: number) => {
      for (const limit of [35, 500]) {
        const path = `/v1/history?type=user&limit=${limit}`;
        const url = `${server.info.baseUrl}/history?type=user&limit=${limit}`;
        await putBaseline(baseline, path, await (await fetch(url, { headers })).json());
        const base = await measure(baselineUrl(path), { connections: 10, seconds: SECONDS });
        const ours = await measure(url, { headers, connections: 10, seconds: SECONDS });
        const latency = await sequentialLatency(url, headers);
        lists.push({ size, page: `limit=${limit}`, rps: ours.rps, ...latency });
        lines.push(row(`GET /history?type=user&limit=${limit}, ${size.toLocaleString('en')} entries`, ours, base));
      }
    };

    // The 10,000 newest entries first; the older 990,000 then go below them, so both
    // measurements read the very same page from a bigger index.
    const seededSmall = await seed(server, SMALL, newest);
    await measureLists(SMALL);
    const seededLarge = await seed(server, LARGE - SMALL, newest - SMALL);
    await measureLists(LARGE);

    const create = await measureCreate(server, baseline);
    lines.push(create.row);

    const sample = withFields(benchEntry(4242), { kind: HISTORY_KIND, key: 'sample', user: 'local', created: newest }) as HistoryEntry;
    const scaling = [35, 500].map((limit) => {
      const small = lists.find((list) => list.size === SMALL && list.page === `limit=${limit}`)!;
      const large = lists.find((list) => list.size === LARGE && list.page === `limit=${limit}`)!;
      return `| limit=${limit} | ${small.p50.toFixed(2)} / ${small.p99.toFixed(2)} | ${large.p50.toFixed(2)} / ${large.p99.toFixed(2)} | ${ratio(large.p50, small.p50).toFixed(2)}x | ${ratio(small.rps, large.rps).toFixed(2)}x |`;
    });
    return [
      `### History (8 connections for writes (${WRITE_SECONDS} s), 10 for reads (${SECONDS} s); retention off)`,
      '',
      `Seeded through the store layer: ${SMALL.toLocaleString('en')} entries in ${(seededSmall / 1000).toFixed(1)} s, ` +
        `${(LARGE - SMALL).toLocaleString('en')} more in ${(seededLarge / 1000).toFixed(1)} s.`,
      '',
      tableHeader,
      ...lines,
      '',
      create.summary,
      '',
      `Below HTTP: the store layer (\`createHistory\` in 10,000-entry batches, no HTTP or validation, while seeding) wrote ` +
        `${((LARGE - SMALL) / (seededLarge / 1000)).toFixed(0)} entries/s.`,
      '',
      `Records per bench entry: the entry, its change record, ${historyIndexKeys(sample).length} list index key(s) and ` +
        `${historyTerms(sample).reduce((sum, { terms }) => sum + [...terms].length, 0)} search terms (a postings record per term and run of entries written together, not per entry).`,
      '',
      `First page at ${LARGE.toLocaleString('en')} vs ${SMALL.toLocaleString('en')} entries (sequential requests on one connection, ms; target ≤ 1.5×):`,
      '',
      `| page | ${SMALL.toLocaleString('en')}: p50 / p99 | ${LARGE.toLocaleString('en')}: p50 / p99 | p50 ratio | rps ratio (small / large) |`,
      '|---|---|---|---|---|',
      ...scaling,
      '',
    ].join('\n');
  } finally {
    await Promise.all([server.stop(), baseline.stop()]);
  }
}
