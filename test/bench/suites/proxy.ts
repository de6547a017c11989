import { Agent, request } from 'undici';
import { startBenchProcess } from '../load.js';

interface StoreInfo {
  baseUrl: string;
  token: string;
}

const COUNT = 2000;
const WARMUP = 200;

/** Sorted milliseconds of each case's calls, the cases taken in turn so that load and warm-up affect them alike. */
async function latencies(count: number, cases: (() => Promise<void>)[]): Promise<number[][]> {
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < count; i++) {
    for (const [index, call] of cases.entries()) {
      const started = performance.now();
      await call();
      times[index].push(performance.now() - started);
    }
  }
  return times.map((list) => list.sort((a, b) => a - b));
}

const at = (sorted: number[], share: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))];

const PROJECT_REQUESTS = 1000;

/** A 1,000-request project run (NDJSON read to the end) against the same requests sent directly, one after another. */
async function projectRun(store: StoreInfo, targetUrl: string, direct: () => Promise<void>): Promise<string> {
  const headers = { authorization: `Bearer ${store.token}`, 'content-type': 'application/json' };
  const keys = Array.from({ length: PROJECT_REQUESTS }, (_, index) => `r${index}`);
  const document = {
    kind: 'Core#HttpProject',
    info: { name: 'bench' },
    items: keys.map((key) => ({ kind: 'Core#ProjectRequest', key })),
    definitions: { requests: keys.map((key) => ({ kind: 'Core#ProjectRequest', key, info: { name: key }, expects: { url: targetUrl, method: 'GET' } })) },
  };
  const created = await request(`${store.baseUrl}/files?alt=media`, { method: 'POST', headers, body: JSON.stringify({ meta: { kind: 'Core#HttpProject', info: { name: 'bench' } }, media: document }) });
  const { key: pid } = (await created.body.json()) as { key: string };
  const run = async (history: boolean) => {
    const started = performance.now();
    const response = await request(`${store.baseUrl}/proxy`, { method: 'POST', headers, body: JSON.stringify({ kind: 'Core#HttpProject', pid, history }) });
    const lines = (await response.body.text()).trim().split('\n');
    const summary = JSON.parse(lines.at(-1) ?? '{}') as { requests?: number; failures?: number };
    if (summary.requests !== PROJECT_REQUESTS || summary.failures !== 0) throw new Error(`the run answered ${lines.at(-1)}`);
    return performance.now() - started;
  };
  const directStarted = performance.now();
  for (let i = 0; i < PROJECT_REQUESTS; i++) await direct();
  const directMs = performance.now() - directStarted;
  const quiet = await run(false);
  const recorded = await run(true);
  return (
    `### A ${PROJECT_REQUESTS}-request project run against the same requests sent directly\n\n| case | total ms |\n|---|---|\n` +
    `| direct (undici, sequential) | ${directMs.toFixed(0)} |\n| project run, history: false | ${quiet.toFixed(0)} |\n| project run, written to history | ${recorded.toFixed(0)} |\n`
  );
}

/**
 * The proxy's added latency: the same loopback GET sent directly with undici (one keep-alive
 * connection) and through POST /v1/proxy (keep-alive to the store; the proxy opens one
 * connection per call, so each proxied call includes a loopback TCP connect), sequentially,
 * the three cases in turn.
 */
export async function run(): Promise<string> {
  const store = await startBenchProcess<StoreInfo>(new URL('../store-server.ts', import.meta.url));
  const target = await startBenchProcess<{ port: number }>(new URL('../baseline-server.ts', import.meta.url));
  const agent = new Agent({ connections: 1 });
  try {
    await new Promise((done) => {
      target.child.once('message', done);
      target.child.send({ type: 'put', key: '/pets', value: { items: [{ id: 1, name: 'rex' }] } });
    });
    const targetUrl = `http://127.0.0.1:${target.info.port}/pets`;
    const direct = async () => {
      const response = await request(targetUrl, { dispatcher: agent });
      await response.body.arrayBuffer();
    };
    const proxied = (history: boolean) => async () => {
      const response = await request(`${store.info.baseUrl}/proxy`, {
        dispatcher: agent,
        method: 'POST',
        headers: { authorization: `Bearer ${store.info.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'Core#HttpRequest', request: { url: '{{base}}/pets' }, variables: { base: `http://127.0.0.1:${target.info.port}` }, history }),
      });
      const result = (await response.body.json()) as { response?: { status: number } };
      if (result.response?.status !== 200) throw new Error(`proxy answered ${JSON.stringify(result)}`);
    };
    const cases: [string, () => Promise<void>][] = [
      ['direct (undici)', direct],
      ['POST /v1/proxy, history: false', proxied(false)],
      ['POST /v1/proxy, written to history', proxied(true)],
    ];
    await latencies(WARMUP, cases.map(([, call]) => call));
    const measured = await latencies(COUNT, cases.map(([, call]) => call));
    const [base] = measured;
    const rows = cases.map(([name], index) => {
      const sorted = measured[index];
      const added = index === 0 ? '–' : `${(at(sorted, 0.5) - at(base, 0.5)).toFixed(2)} / ${(at(sorted, 0.99) - at(base, 0.99)).toFixed(2)}`;
      return `| ${name} | ${at(sorted, 0.5).toFixed(2)} | ${at(sorted, 0.99).toFixed(2)} | ${added} |`;
    });
    const runs = await projectRun(store.info, targetUrl, direct);
    return `${runs}\n### Proxy added latency, ${COUNT} sequential GETs of a loopback target per case, cases in turn (after ${WARMUP} warm-up rounds)\n\n| case | p50 ms | p99 ms | added p50 / p99 ms |\n|---|---|---|---|\n${rows.join('\n')}\n`;
  } finally {
    await agent.close();
    await Promise.all([store.stop(), target.stop()]);
  }
}
