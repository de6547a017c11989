/**
 * Large imports: a generated 10,000-request Postman collection and generated HAR logs, each
 * imported in a fresh child process so that its peak RSS is its own. Run with
 * `node --import tsx test/bench/import-large.ts`; figures go to RESULTS.md by hand.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestStore } from '../helpers/store.js';
import { planImport } from '../../backend/src/projects/import/index.js';

type Case = 'postman-10k' | 'har-9mb' | 'har-100mb-in-process';

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

/** A HAR of about `bytes`, most of it response bodies (which a project document leaves out). */
function har(bytes: number): string {
  const body = 'r'.repeat(20_000);
  const entries = Array.from({ length: Math.ceil(bytes / 20_500) }, (_, i) => ({
    startedDateTime: new Date(1_700_000_000_000 + i).toISOString(),
    time: 1,
    request: { method: 'GET', url: `https://example.com/items/${i}`, httpVersion: 'HTTP/1.1', headers: [{ name: 'accept', value: '*/*' }], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
    response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], cookies: [], content: { size: body.length, mimeType: 'text/plain', text: body }, redirectURL: '', headersSize: -1, bodySize: -1 },
    cache: {},
    timings: { send: 0, wait: 1, receive: 0 },
  }));
  return JSON.stringify({ log: { version: '1.2', creator: { name: 'bench', version: '1' }, entries } });
}

async function runCase(name: Case): Promise<void> {
  const text = name === 'postman-10k' ? postmanCollection(10_000) : har(name === 'har-9mb' ? 9 * 1024 * 1024 : 100 * 1024 * 1024);
  const started = performance.now();
  let created = 0;
  if (name === 'har-100mb-in-process') {
    const plan = await planImport({ json: JSON.parse(text) }, 100);
    created = plan.files.length;
  } else {
    const store = await startTestStore();
    try {
      const response = await store.api('/import', { method: 'POST', body: text, headers: { 'Content-Type': 'application/json' } });
      const report = (await response.json()) as { created?: unknown[]; detail?: string };
      if (response.status !== 201) throw new Error(`${response.status} ${report.detail}`);
      created = report.created!.length;
    } finally {
      await store.stop();
    }
  }
  const ms = performance.now() - started;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ case: name, inputMb: +(text.length / 1024 / 1024).toFixed(1), ms: Math.round(ms), peakRssMb: Math.round(rssMb), created }) + '\n');
}

const self = fileURLToPath(import.meta.url);
const asked = process.argv[2] as Case | undefined;
if (asked) {
  await runCase(asked);
} else {
  for (const name of ['postman-10k', 'har-9mb', 'har-100mb-in-process'] as Case[]) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', self, name], { encoding: 'utf8' });
    process.stdout.write(run.stdout || `${name}: failed ${run.stderr}\n`);
  }
}
