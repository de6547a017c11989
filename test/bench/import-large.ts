/**
 * Large imports: a generated 10,000-request Postman collection and a generated 100 MB HAR (into a
 * project, and into history), each imported through `POST /v1/import` of a real store in a fresh
 * child process, so that its peak RSS (store and client together) is its own. The HAR is streamed
 * from disk as the request body. Run with `node --import tsx test/bench/import-large.ts`; figures
 * go to RESULTS.md by hand.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLargeHar } from '../helpers/large-har.js';
import { makeTempDir, startTestStore, type TestStore } from '../helpers/store.js';

type Case = 'postman-10k' | 'har-100mb-project' | 'har-100mb-history';

function postmanCollection(requests: number): string {
  const folders = Array.from({ length: requests / 100 }, (_, f) => ({
    name: `Folder ${f}`,
    item: Array.from({ length: 100 }, (_, r) => ({
      name: `Request ${f}-${r}`,
      request: {
        method: r % 2 ? 'POST' : 'GET',
        header: [{ key: 'Accept', value: 'application/json' }, { key: 'X-Trace', value: `${f}-${r}` }],
        url: { raw: `{{base_url}}/folders/${f}/items/${r}?page=1` },
        ...(r % 2 ? { body: { mode: 'raw', raw: JSON.stringify({ folder: f, item: r, note: 'x'.repeat(40) }) } } : {}),
      },
    })),
  }));
  return JSON.stringify({ info: { name: 'Large', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' }, item: folders });
}

/** The HAR cases' input: about 100 MB, most of it response bodies (which a project leaves out). */
const HAR_ENTRIES = Math.ceil((100 * 1024 * 1024) / 20_900);
const HAR_RESPONSE_BYTES = 20_000;
const CAPPED_HEAP_MB = 96;

/** Streams `file` as the body of `POST /import`, pausing as the store reads (undici's fetch reads a stream body ahead). */
async function postFile(store: TestStore, file: string, query: string): Promise<{ status: number; body: string }> {
  const url = new URL(`${store.baseUrl}/import${query}`);
  const request = httpRequest(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${store.token}` } });
  const answered = once(request, 'response') as Promise<[IncomingMessage]>;
  await pipeline(createReadStream(file), request);
  const [response] = await answered;
  return { status: response.statusCode ?? 0, body: await text(response) };
}

async function runCase(name: Case, harFile: string): Promise<void> {
  const store = await startTestStore();
  let inputBytes: number;
  const started = performance.now();
  let created: unknown;
  try {
    let response: { status: number; body: string };
    if (name === 'postman-10k') {
      const collection = postmanCollection(10_000);
      inputBytes = collection.length;
      const answer = await store.api('/import', { method: 'POST', body: collection, headers: { 'Content-Type': 'application/json' } });
      response = { status: answer.status, body: await answer.text() };
    } else {
      inputBytes = (await stat(harFile)).size;
      response = await postFile(store, harFile, name === 'har-100mb-history' ? '?to=history' : '');
    }
    const report = JSON.parse(response.body) as { created?: unknown[]; history?: { entries: number }; detail?: string };
    if (response.status !== 201) throw new Error(`${response.status} ${report.detail}`);
    created = report.history ? `${report.history.entries} history entries` : `${report.created!.length} file(s)`;
  } finally {
    await store.stop();
  }
  const ms = performance.now() - started;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ case: name, inputMb: +(inputBytes / 1024 / 1024).toFixed(1), ms: Math.round(ms), peakRssMb: Math.round(rssMb), created }) + '\n');
}

const self = fileURLToPath(import.meta.url);
const [asked, harFile] = process.argv.slice(2) as [Case | undefined, string];
if (asked) {
  await runCase(asked, harFile);
} else {
  // The HAR is written to disk once, here, so that no case holds it as a string.
  const dir = await makeTempDir();
  try {
    const file = join(dir, 'large.har');
    await writeLargeHar(file, HAR_ENTRIES, HAR_RESPONSE_BYTES);
    // The HAR cases run again with the JavaScript heap capped far below the input's size: they
    // complete only if the import holds the HAR an entry at a time.
    const runs: [Case, string[]][] = [
      ['postman-10k', []],
      ['har-100mb-project', []],
      ['har-100mb-history', []],
      ['har-100mb-project', [`--max-old-space-size=${CAPPED_HEAP_MB}`]],
      ['har-100mb-history', [`--max-old-space-size=${CAPPED_HEAP_MB}`]],
    ];
    for (const [name, flags] of runs) {
      const run = spawnSync(process.execPath, [...flags, '--import', 'tsx', self, name, file], { encoding: 'utf8' });
      process.stdout.write(run.stdout ? `${flags.join(' ')} ${run.stdout}`.trimStart() : `${name}: failed ${run.stderr.slice(-2000)}\n`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
