import { measure, ratio, row, sequentialLatency, startBenchProcess, tableHeader, type BenchProcess } from '../load.js';

/**
 * Files at volume: authenticated `GET /v1/files/{key}` on a store of 101,000 files against the
 * raw node:http baseline serving the same JSON (target ≥ 0.25×), the `POST /v1/files` create
 * rate, and the first page of `GET /v1/files?parent=` for a space of 1,000 and of 100,000
 * children (must stay flat), plus a page deep into the big space through its cursor.
 */

/** A project's metadata of a realistic size (about 400 bytes). */
export function benchProject(n: number) {
  return {
    kind: 'Core#HttpProject',
    info: { name: `Orders API ${n}`, description: 'Customer orders: create, list, ship and refund, with the sandbox environment.', version: '1.4.2' },
    tags: ['orders', 'billing', 'v1'],
    environments: [{ name: 'sandbox', baseUri: 'https://sandbox.api.example.test' }],
  };
}

const SMALL = 1_000;
const LARGE = 100_000;
const SECONDS = 5;

interface FilesServer {
  baseUrl: string;
  token: string;
}

interface Seeded {
  space: string;
  sample: string;
  ms: number;
}

function seed(server: BenchProcess<FilesServer>, count: number): Promise<Seeded> {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve(message as Seeded));
    server.child.send({ type: 'seed', count });
  });
}

function putBaseline(baseline: BenchProcess<{ port: number }>, key: string, value: unknown): Promise<void> {
  return new Promise((done) => {
    baseline.child.once('message', () => done());
    baseline.child.send({ type: 'put', key, value });
  });
}

/** Walks `pages` pages of 500 and returns the cursor there. */
async function cursorAfter(url: string, headers: Record<string, string>, pages: number): Promise<string> {
  let cursor = '';
  for (let i = 0; i < pages; i++) {
    const page = (await (await fetch(`${url}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers })).json()) as { cursor: string };
    cursor = page.cursor;
  }
  return cursor;
}

export async function run(): Promise<string> {
  const server = await startBenchProcess<FilesServer>(new URL('../files-server.ts', import.meta.url));
  const baseline = await startBenchProcess<{ port: number }>(new URL('../baseline-server.ts', import.meta.url));
  const floor = await startBenchProcess<{ port: number }>(new URL('../baseline-server.ts', import.meta.url), ['hono']);
  const shellFloor = await startBenchProcess<{ port: number }>(new URL('../baseline-server.ts', import.meta.url), ['shell']);
  const baselineUrl = (path: string) => `http://127.0.0.1:${baseline.info.port}${path}`;
  try {
    const headers = { Authorization: `Bearer ${server.info.token}` };
    const lines: string[] = [];
    const pages: string[] = [];

    const measureList = async (label: string, query: string) => {
      const url = `${server.info.baseUrl}/files?${query}`;
      const path = `/v1/files?${query}`;
      await putBaseline(baseline, path, await (await fetch(url, { headers })).json());
      const base = await measure(baselineUrl(path), { connections: 10, seconds: SECONDS });
      const ours = await measure(url, { headers, connections: 10, seconds: SECONDS });
      lines.push(row(`GET /files?parent= (${label})`, ours, base));
      const latency = await sequentialLatency(url, headers);
      pages.push(`| ${label} | ${latency.p50.toFixed(2)} / ${latency.p99.toFixed(2)} | ${ours.rps.toFixed(0)} |`);
      return latency;
    };

    const small = await seed(server, SMALL);
    const smallPage = await measureList(`${SMALL.toLocaleString('en')} children, first page of 35`, `parent=${small.space}`);
    const large = await seed(server, LARGE);
    const largePage = await measureList(`${LARGE.toLocaleString('en')} children, first page of 35`, `parent=${large.space}`);
    const deep = await cursorAfter(`${server.info.baseUrl}/files?parent=${large.space}`, headers, 100);
    await measureList(`${LARGE.toLocaleString('en')} children, page of 35 after 50,000`, `cursor=${encodeURIComponent(deep)}&limit=35`);

    const filePath = `/v1/files/${large.sample}`;
    const sampleFile = await (await fetch(`${server.info.baseUrl}/files/${large.sample}`, { headers })).json();
    await Promise.all([putBaseline(baseline, filePath, sampleFile), putBaseline(floor, filePath, sampleFile), putBaseline(shellFloor, filePath, sampleFile)]);
    const baseGet = await measure(baselineUrl(filePath));
    const get = await measure(`${server.info.baseUrl}/files/${large.sample}`, { headers });
    const floorGet = await measure(`http://127.0.0.1:${floor.info.port}${filePath}`);
    const shellFloorGet = await measure(`http://127.0.0.1:${shellFloor.info.port}${filePath}`);
    lines.push(row(`GET /files/{key} (${(SMALL + LARGE + 2).toLocaleString('en')} files)`, get, baseGet));
    lines.push(row('GET /files/{key}: framework floor (Hono request-id + secure-headers) in the api-store column', floorGet, baseGet));
    lines.push(row('GET /files/{key}: framework floor with api-store’s shell middleware in the api-store column', shellFloorGet, baseGet));

    const body = JSON.stringify(benchProject(0));
    const post = { method: 'POST' as const, body, headers: { ...headers, 'Content-Type': 'application/json' }, connections: 10, seconds: SECONDS };
    await putBaseline(baseline, `/v1/files?parent=${small.space}`, await (await fetch(`${server.info.baseUrl}/files/${small.sample}`, { headers })).json());
    const baseCreate = await measure(baselineUrl(`/v1/files?parent=${small.space}`), post);
    const create = await measure(`${server.info.baseUrl}/files?parent=${small.space}`, post);
    lines.push(row('POST /files (one project into a space)', create, baseCreate));

    return [
      `### Files (50 connections for GET /files/{key}, 10 otherwise, ${SECONDS} s each)`,
      '',
      `Seeded through the store layer: ${SMALL.toLocaleString('en')} files in ${(small.ms / 1000).toFixed(1)} s, ` +
        `${LARGE.toLocaleString('en')} in ${(large.ms / 1000).toFixed(1)} s.`,
      '',
      tableHeader,
      ...lines,
      '',
      `**GET /files/{key}: ${ratio(get.rps, baseGet.rps).toFixed(2)}× the baseline** (target ≥ 0.25×). ` +
        `**POST /files: ${create.rps.toFixed(0)} files/s** (${create.errors + create.non2xx} errors).`,
      '',
      `The framework floor (Hono on @hono/node-server with the request id and the hard-shell headers, serving the same JSON ` +
        `from a Map: no auth, validation or storage) is ${ratio(floorGet.rps, baseGet.rps).toFixed(2)}× the baseline with Hono's request-id and ` +
        `secure-headers middleware and ${ratio(shellFloorGet.rps, baseGet.rps).toFixed(2)}× with api-store's one shell middleware; ` +
        `api-store is ${ratio(get.rps, floorGet.rps).toFixed(2)}× the first floor.`,
      '',
      'List pages (sequential requests on one connection, ms):',
      '',
      '| listing | p50 / p99 | rps (10 connections) |',
      '|---|---|---|',
      ...pages,
      '',
      `First page at ${LARGE.toLocaleString('en')} vs ${SMALL.toLocaleString('en')} children: p50 ratio ${ratio(largePage.p50, smallPage.p50).toFixed(2)}×.`,
      '',
    ].join('\n');
  } finally {
    await Promise.all([server.stop(), baseline.stop(), floor.stop(), shellFloor.stop()]);
  }
}
