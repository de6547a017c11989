import { ratio, startBenchProcess, type BenchProcess } from '../load.js';

/**
 * Search and filtered lists (issue 14): the first page of a workspace search (`GET /files?query=`
 * without `parent`) over 100,000 files in 100 spaces (target p50 < 20 ms); a history query at
 * 10,000 and at 1,000,000 entries (target p50 < 50 ms at 1,000,000); `GET /changes?path=` after
 * 100,000 changes on other paths (target: one request). Latency is sequential requests on one
 * connection, the rows of a table taking turns request by request (so that the machine's load
 * falls on them alike), each table with a plain list page as its floor. Data is seeded through
 * the store layer.
 */

/** Override with SEARCH_BENCH_FILES for a quick run. */
const FILES = Number(process.env.SEARCH_BENCH_FILES ?? 100_000);
const HISTORY_SMALL = 10_000;
/** The largest history this bench seeds; override with SEARCH_BENCH_HISTORY (e.g. 100000 for a quick run). */
const HISTORY_LARGE = Number(process.env.SEARCH_BENCH_HISTORY ?? 1_000_000);
const REQUESTS = 300;

interface SearchServer {
  baseUrl: string;
  token: string;
}

type Latency = { p50: number; p99: number; items: number };

function seed(server: BenchProcess<SearchServer>, type: 'files' | 'history', count: number): Promise<{ ms: number; seq: number }> {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve(message as { ms: number; seq: number }));
    server.child.send({ type, count });
  });
}

const percentile = (sorted: number[], share: number) => sorted[Math.floor(sorted.length * share)];

export async function run(): Promise<string> {
  const server = await startBenchProcess<SearchServer>(new URL('../search-server.ts', import.meta.url));
  try {
    const headers = { Authorization: `Bearer ${server.info.token}` };
    const get = async (path: string) => (await fetch(`${server.info.baseUrl}${path}`, { headers })).json() as Promise<{ items: unknown[]; cursor?: string }>;
    /** `REQUESTS` sequential requests of each path, the paths in turn. */
    const latencies = async (paths: string[]): Promise<Latency[]> => {
      const times = paths.map((): number[] => []);
      const items = await Promise.all(paths.map(async (path) => (await get(path)).items.length));
      for (let round = 0; round < REQUESTS; round++) {
        for (const [i, path] of paths.entries()) {
          const started = performance.now();
          await (await fetch(`${server.info.baseUrl}${path}`, { headers })).arrayBuffer();
          times[i].push(performance.now() - started);
        }
      }
      return times.map((list, i) => {
        list.sort((a, b) => a - b);
        return { p50: percentile(list, 0.5), p99: percentile(list, 0.99), items: items[i] };
      });
    };
    const lines: string[] = [];
    const cell = (l: Latency) => `${l.p50.toFixed(2)} / ${l.p99.toFixed(2)} (${l.items} items)`;
    const count = (n: number) => n.toLocaleString('en');

    // History: a plain page (the floor), a common word (every entry), a word of one entry, and two words, at both sizes.
    const historyPaths = ['/history?type=user&limit=35', ...['shipped', '4242', 'customers%204242'].map((q) => `/history?type=user&limit=35&query=${q}`)];
    const seededSmall = await seed(server, 'history', HISTORY_SMALL);
    const historySmall = await latencies(historyPaths);
    const seededLarge = await seed(server, 'history', HISTORY_LARGE - HISTORY_SMALL);
    const historyLarge = await latencies(historyPaths);

    // Files, after the history: its changes are all on other paths than /files.
    const before = seededLarge.seq;
    const seededFiles = await seed(server, 'files', FILES);
    const filePaths = ['/files?limit=35', ...['orders', 'item4242', 'billing%20orders', 'nothing'].map((q) => `/files?limit=35&query=${q}`)];
    const files = await latencies(filePaths);

    // /changes?path=/history after the 100,000+ file changes: count the requests to the end.
    const historySince = seededFiles.seq;
    await seed(server, 'history', 1);
    let requests = 0;
    let found = 0;
    let cursor: string | undefined;
    do {
      const page = await get(`/changes?path=/history&since=${historySince}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      requests += 1;
      found += page.items.length;
      cursor = page.cursor;
    } while (cursor);
    const [changesLatency] = await latencies([`/changes?path=/history&since=${historySince}`]);

    const rate = (entries: number, ms: number) => `${count(Math.round(entries / (ms / 1000)))}/s`;
    lines.push(
      `### Search (sequential requests on one connection, ${REQUESTS} per row, rows in turn; ms p50 / p99)`,
      '',
      `Seeded through the store layer: history ${count(HISTORY_SMALL)} entries in ${(seededSmall.ms / 1000).toFixed(1)} s, ` +
        `${count(HISTORY_LARGE - HISTORY_SMALL)} more in ${(seededLarge.ms / 1000).toFixed(1)} s (${rate(HISTORY_LARGE - HISTORY_SMALL, seededLarge.ms)}); ` +
        `${count(FILES)} files in 100 spaces in ${(seededFiles.ms / 1000).toFixed(1)} s (${rate(FILES, seededFiles.ms)}).`,
      '',
      `| workspace, ${count(FILES)} files | first page (limit=35) |`,
      '|---|---|',
      ...filePaths.map((path, i) => `| \`GET ${decodeURIComponent(path.replace('limit=35&', ''))}\`${i === 0 ? ' (plain list page, the floor)' : ''} | ${cell(files[i])} |`),
      '',
      `| history (type=user, limit=35) | ${count(HISTORY_SMALL)} entries | ${count(HISTORY_LARGE)} entries | p50 ratio |`,
      '|---|---|---|---|',
      ...historyPaths.map((path, i) => {
        const query = new URL(path, 'http://x').searchParams.get('query');
        const name = query === null ? 'no query (plain list page, the floor)' : `\`query=${query}\``;
        return `| ${name} | ${cell(historySmall[i])} | ${cell(historyLarge[i])} | ${ratio(historyLarge[i].p50, historySmall[i].p50).toFixed(2)}x |`;
      }),
      '',
      `\`GET /changes?path=/history&since=${historySince}\` after ${count(historySince - before)} changes on other paths: ` +
        `**${requests} request(s)**, ${found} change(s); ${changesLatency.p50.toFixed(2)} / ${changesLatency.p99.toFixed(2)} ms.`,
      '',
    );
    return lines.join('\n');
  } finally {
    await server.stop();
  }
}
