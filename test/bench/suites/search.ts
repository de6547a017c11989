import { ratio, sequentialLatency, startBenchProcess, type BenchProcess } from '../load.js';

/**
 * Search and filtered lists (issue 14): the first page of a workspace search (`GET /files?query=`
 * without `parent`) over 100,000 files in 100 spaces (target p50 < 20 ms); a history query over
 * a small and a large store (target p50 < 50 ms at 1,000,000 entries); `GET /changes?path=`
 * after 100,000 changes on other paths (target: one request). Latency is sequential requests
 * on one connection; data is seeded through the store layer.
 */

const FILES = 100_000;
const HISTORY_SMALL = 10_000;
/** The largest history this bench seeds; override with SEARCH_BENCH_HISTORY (e.g. 1000000). */
const HISTORY_LARGE = Number(process.env.SEARCH_BENCH_HISTORY ?? 100_000);
const REQUESTS = 300;

interface SearchServer {
  baseUrl: string;
  token: string;
}

function seed(server: BenchProcess<SearchServer>, type: 'files' | 'history', count: number): Promise<{ ms: number; seq: number }> {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve(message as { ms: number; seq: number }));
    server.child.send({ type, count });
  });
}

export async function run(): Promise<string> {
  const server = await startBenchProcess<SearchServer>(new URL('../search-server.ts', import.meta.url));
  try {
    const headers = { Authorization: `Bearer ${server.info.token}` };
    const get = async (path: string) => (await fetch(`${server.info.baseUrl}${path}`, { headers })).json() as Promise<{ items: unknown[]; cursor?: string }>;
    const latency = async (path: string) => {
      const page = await get(path);
      return { ...(await sequentialLatency(`${server.info.baseUrl}${path}`, headers, REQUESTS)), items: page.items.length };
    };
    const lines: string[] = [];
    const cell = (l: { p50: number; p99: number; items: number }) => `${l.p50.toFixed(2)} / ${l.p99.toFixed(2)} (${l.items} items)`;

    // History: a common word (every entry), a word of one entry, and two words, at both sizes.
    const historyQueries = ['shipped', '4242', 'customers%204242'];
    const history: Record<string, { p50: number; p99: number; items: number }>[] = [];
    const seededSmall = await seed(server, 'history', HISTORY_SMALL);
    const measureHistory = async () =>
      Object.fromEntries(await Promise.all(historyQueries.map(async (q) => [q, await latency(`/history?type=user&limit=35&query=${q}`)] as const)));
    history.push(await measureHistory());
    const seededLarge = await seed(server, 'history', HISTORY_LARGE - HISTORY_SMALL);
    history.push(await measureHistory());

    // Files, after the history: its changes are all on other paths than /files.
    const before = seededLarge.seq;
    const seededFiles = await seed(server, 'files', FILES);
    const fileQueries = ['orders', 'item4242', 'billing%20orders', 'nothing'];
    const files = await Promise.all(fileQueries.map(async (q) => [q, await latency(`/files?limit=35&query=${q}`)] as const));

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
    const changesLatency = await latency(`/changes?path=/history&since=${historySince}`);

    lines.push(
      `### Search (sequential requests on one connection, ${REQUESTS} per row, ms p50 / p99)`,
      '',
      `Seeded through the store layer: history ${HISTORY_SMALL.toLocaleString('en')} entries in ${(seededSmall.ms / 1000).toFixed(1)} s, ` +
        `${(HISTORY_LARGE - HISTORY_SMALL).toLocaleString('en')} more in ${(seededLarge.ms / 1000).toFixed(1)} s; ` +
        `${FILES.toLocaleString('en')} files in 100 spaces in ${(seededFiles.ms / 1000).toFixed(1)} s.`,
      '',
      `| workspace search, ${FILES.toLocaleString('en')} files | first page (limit=35) |`,
      '|---|---|',
      ...files.map(([q, l]) => `| \`GET /files?query=${decodeURIComponent(q)}\` | ${cell(l)} |`),
      '',
      `| history query (type=user, limit=35) | ${HISTORY_SMALL.toLocaleString('en')} entries | ${HISTORY_LARGE.toLocaleString('en')} entries | p50 ratio |`,
      '|---|---|---|---|',
      ...historyQueries.map((q) => `| \`query=${decodeURIComponent(q)}\` | ${cell(history[0][q])} | ${cell(history[1][q])} | ${ratio(history[1][q].p50, history[0][q].p50).toFixed(2)}x |`),
      '',
      `\`GET /changes?path=/history&since=${historySince}\` after ${(historySince - before).toLocaleString('en')} changes on other paths: ` +
        `**${requests} request(s)**, ${found} change(s); ${changesLatency.p50.toFixed(2)} / ${changesLatency.p99.toFixed(2)} ms.`,
      '',
    );
    return lines.join('\n');
  } finally {
    await server.stop();
  }
}
