import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLaunchToken } from '../../../backend/src/auth/local-token.js';
import { buildBackend } from '../../helpers/built-backend.js';
import { procStat } from '../load.js';

/**
 * Start-up of the bundled backend on a store of 100,000 files (target: first 200 on GET /v1/store
 * under 300 ms after the process starts, idle RSS under 80 MB), run as `node out/backend/cli.js
 * --server` and as the child the supervisor forks. The floor is a bare node:http server started
 * the same way: what Node itself costs on this machine at this moment. The first start of each
 * entry, which compiles its bundle and saves V8's code cache, is shown apart. Runs alternate between the
 * three so that they share the machine's load; CPU time (Linux) is less sensitive to that load
 * than wall time.
 */

const FILES = 100_000;
const RUNS = 5;

const floorScript = `require('node:http').createServer((q, s) => s.end('{}')).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port + '/v1'); });`;

interface Start {
  ms: number;
  cpuMs?: number;
  rssMb?: number;
}

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** Waits for `listening on <url>` on stdout. */
function listeningUrl(child: ChildProcess): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
}

async function timeStart(launch: () => { child: ChildProcess; url: Promise<string> }): Promise<Start> {
  const started = performance.now();
  const { child, url } = launch();
  const exited = new Promise((done) => child.once('exit', done));
  try {
    const code = await status(`${await url}/store`);
    const ms = performance.now() - started;
    if (code !== 200) throw new Error(`GET /v1/store answered ${code}`);
    const { cpuMs } = procStat(child.pid!);
    await new Promise((done) => setTimeout(done, 1000));
    return { ms, cpuMs, rssMb: procStat(child.pid!).rssMb };
  } finally {
    if (child.connected) child.send({ type: 'shutdown' });
    else child.kill('SIGTERM');
    await exited;
  }
}

const median = (values: (number | undefined)[]) => {
  const known = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  return known.length ? known[Math.floor(known.length / 2)] : undefined;
};
const show = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));

export async function run(): Promise<string> {
  const built = await buildBackend();
  process.env.API_STORE_CODE_CACHE = built.codeCache;
  const dataDir = await mkdtemp(join(tmpdir(), 'api-store-bench-start-'));
  try {
    const seedScript = fileURLToPath(new URL('../seed-store.ts', import.meta.url));
    await promisify(execFile)(process.execPath, ['--import', 'tsx', seedScript, dataDir, String(FILES)]);
    const cases: Record<string, () => { child: ChildProcess; url: Promise<string> }> = {
      'node:http floor (node -e)': () => {
        const child = spawn(process.execPath, ['-e', floorScript], { stdio: ['ignore', 'pipe', 'ignore'] });
        return { child, url: listeningUrl(child) };
      },
      'node out/backend/cli.js --server': () => {
        const child = spawn(process.execPath, [built.cli, '--server', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
        return { child, url: listeningUrl(child) };
      },
      'child_process.fork(out/backend/child.js)': () => {
        // Plain node: without execArgv, fork would pass on this process's tsx loader.
        const child = fork(built.child, [], { execArgv: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
        child.send({ type: 'start', config: { dataDir, token: createLaunchToken() } });
        const url = new Promise<string>((resolve, reject) => {
          child.on('message', (message: { type: string; port?: number }) => message.type === 'ready' && resolve(`http://127.0.0.1:${message.port}/v1`));
          child.once('exit', (code) => reject(new Error(`exited with ${code} before ready`)));
        });
        return { child, url };
      },
    };
    // The first start after an install or an update compiles the bundle and saves the code cache
    // (in the temp app here); the starts after it run from that cache.
    const firstStarts = [];
    for (const [name, launch] of Object.entries(cases).slice(1)) {
      const start = await timeStart(launch);
      firstStarts.push(`| ${name}, first start (no code cache yet) | ${show(start.ms)} | - | - | ${show(start.cpuMs)} | ${show(start.rssMb)} |`);
    }
    const results = new Map<string, Start[]>(Object.keys(cases).map((name) => [name, []]));
    for (let i = 0; i < RUNS; i++) for (const [name, launch] of Object.entries(cases)) results.get(name)!.push(await timeStart(launch));
    // Each run's wall time less the floor's in the same round: what the backend adds to Node's own start.
    const floors = results.get('node:http floor (node -e)')!;
    const rows = [...results].map(([name, starts]) => {
      const ms = median(starts.map((s) => s.ms));
      const above = median(starts.map((s, i) => s.ms - floors[i].ms));
      return `| ${name} | ${show(ms)} | ${starts.map((s) => show(s.ms)).join(', ')} | ${show(above)} | ${show(median(starts.map((s) => s.cpuMs)))} | ${show(median(starts.map((s) => s.rssMb)))} |`;
    });
    return [
      `### Start on a store of ${FILES.toLocaleString('en')} files: process start to first 200 on GET /v1/store, median of ${RUNS} (code cache saved by the first start)`,
      '',
      '| case | wall ms | runs ms | wall above the floor, same round, ms | CPU ms | idle RSS MB |',
      '|---|---|---|---|---|---|',
      ...firstStarts,
      ...rows,
      '',
    ].join('\n');
  } finally {
    await Promise.all([built.remove(), rm(dataDir, { recursive: true, force: true })]);
  }
}
