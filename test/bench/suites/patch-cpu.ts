import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { startBenchProcess, type BenchProcess } from '../load.js';
import { call } from './files-cpu.js';

/**
 * PATCH /v1/files/{key} without the network, as the events suite sends it (one `replace` of
 * `/info/name` on one of 10 projects), with 10 sockets observing `/files` in another process so
 * that the change's fan-out (visibility check, frame, socket writes) is counted. The figures are
 * the CPU time per request of this process (every thread: LevelDB's writes and compactions count)
 * and of its main thread (what bounds the rate one store can serve), the best and the median of 10
 * rounds of 2,000.
 *
 * `PATCH_CPU_SOCKETS` sets how many sockets observe. `PATCH_CPU_BEFORE=<git ref>` measures that commit's backend too, in this same process on a
 * store of its own, the two alternating within each round: a before/after that the load of the
 * machine weighs on alike.
 */
const ROUNDS = 10;
const REQUESTS = 2000;
const FILES = 10;
/** Sockets observing `/files` (`PATCH_CPU_SOCKETS`, 10 unless set): each adds the write of every event to one more socket. */
const SOCKETS = Number(process.env.PATCH_CPU_SOCKETS ?? 10);

const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Side {
  name: string;
  send(i: number): Promise<number>;
  stop(): Promise<void>;
  /** µs per request of each round: the process (every thread), and its main thread. */
  cpu: number[];
  main: number[];
}

/** The backend's modules from `root` (this repository, or an older commit's backend extracted beside it). */
async function loadBackend(root: string) {
  const load = (path: string) => import(pathToFileURL(join(root, 'backend/src', path)).href);
  const [server, config, logger, app, token] = await Promise.all([load('server.ts'), load('config.ts'), load('logger.ts'), load('http/app.ts'), load('auth/local-token.ts')]);
  return { startStore: server.startStore, configSchema: config.configSchema, createLogger: logger.createLogger, createApp: app.createApp, ...token };
}

/** A store of the backend at `root` with its files and observers, and how to send it the bench's PATCH. */
async function openSide(name: string, root: string): Promise<Side> {
  const backend = await loadBackend(root);
  const dataDir = await mkdtemp(join(tmpdir(), 'api-store-bench-patch-cpu-'));
  const token = backend.createLaunchToken();
  // `PATCH_CPU_SOCKETS` may ask for more sockets than a user's default cap, as the events suite does.
  const config = backend.configSchema.parse({ dataDir, token, logLevel: 'silent', events: { maxSocketsPerUser: 1000 } });
  const running = await backend.startStore(config, backend.createLogger('silent'));
  let receivers: BenchProcess<{ opened: number }> | undefined;
  try {
    const base = `http://127.0.0.1:${running.port}${config.prefix}`;
    const auth = { Authorization: `Bearer ${token}` };
    const keys: string[] = [];
    for (let n = 0; n < FILES; n++) {
      const created = await fetch(`${base}/files`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: 'Core#HttpProject', info: { name: `bench ${n}` } }) });
      keys.push(((await created.json()) as { key: string }).key);
    }
    const observe = JSON.stringify({ kind: 'Core#BackendCommand', cmd: 0, path: '/files' });
    receivers = await startBenchProcess(new URL('../event-receivers.ts', import.meta.url), [`${base.replace(/^http/, 'ws')}/events?token=${token}`, observe, String(SOCKETS)]);
    const listener = getRequestListener(backend.createApp(running.services, { loopback: true, tls: false, authenticator: backend.localTokenAuthenticator(token) }).fetch);
    const headers = { Host: `127.0.0.1:${running.port}`, ...auth, 'Content-Type': 'application/json', Accept: '*/*', 'User-Agent': 'bench' };
    const opened = receivers;
    return {
      name,
      cpu: [],
      main: [],
      send: (i) =>
        call(listener, `${config.prefix}/files/${keys[i % FILES]}`, headers, {
          method: 'PATCH',
          body: JSON.stringify([{ op: 'replace', path: '/info/name', value: `bench-${name}-${i}-${process.hrtime.bigint()}` }]),
        }),
      stop: async () => {
        await opened.stop();
        await running.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await receivers?.stop();
    await running.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** The main thread's CPU time in ns (the scheduler's count, exact over a round, where `cpuUsage` adds every thread). */
const mainThreadNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);

async function cpuPerRequest(side: Side, count: number): Promise<void> {
  const before = process.cpuUsage();
  const mainBefore = mainThreadNs();
  for (let i = 0; i < count; i++) {
    const status = await side.send(i);
    if (status !== 200) throw new Error(`${side.name}: PATCH answered ${status}`);
  }
  const used = process.cpuUsage(before);
  side.cpu.push((used.user + used.system) / count);
  side.main.push((mainThreadNs() - mainBefore) / 1000 / count);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run(): Promise<string> {
  const ref = process.env.PATCH_CPU_BEFORE;
  const sides: Side[] = [];
  let extracted: string | undefined;
  const loadBefore = loadavg()[0];
  try {
    if (ref) {
      // Beside the repository, so that the old backend resolves the same node_modules.
      extracted = await mkdtemp(join(repo, '.bench-before-'));
      execFileSync('sh', ['-c', `git -C "${repo}" archive "${ref}" backend package.json | tar -x -C "${extracted}"`]);
      await symlink(join(repo, 'node_modules'), join(extracted, 'node_modules'));
      sides.push(await openSide(`before (${ref})`, extracted));
    }
    sides.push(await openSide('this tree', repo));
    for (const side of sides) await cpuPerRequest(side, REQUESTS / 2);
    for (const side of sides) [side.cpu, side.main] = [[], []];
    for (let round = 0; round < ROUNDS; round++) for (const side of sides) await cpuPerRequest(side, REQUESTS);
  } finally {
    await Promise.all(sides.map((side) => side.stop()));
    if (extracted) await rm(extracted, { recursive: true, force: true });
  }
  const last = sides[sides.length - 1];
  return [
    `### PATCH /files/{key} without the network: CPU per request (${ROUNDS} rounds × ${REQUESTS.toLocaleString('en')}, ${SOCKETS} sockets observing)`,
    '',
    '| backend | process CPU µs, best / median | median / first row | main thread CPU µs, best / median | median / first row |',
    '|---|---|---|---|---|',
    ...sides.map(
      (side) =>
        `| ${side.name} | ${Math.min(...side.cpu).toFixed(1)} / ${median(side.cpu).toFixed(1)} | ${(median(side.cpu) / median(sides[0].cpu)).toFixed(2)}x | ` +
        `${Math.min(...side.main).toFixed(1)} / ${median(side.main).toFixed(1)} | ${(median(side.main) / median(sides[0].main)).toFixed(2)}x |`,
    ),
    '',
    `Process CPU of each round (µs, in order): ${sides.map((side) => `${side.name}: ${side.cpu.map((v) => v.toFixed(0)).join(', ')}`).join('; ')}.`,
    `Machine load average (1 min) before/after: ${loadBefore.toFixed(1)}/${loadavg()[0].toFixed(1)}.${last === sides[0] ? ' Set PATCH_CPU_BEFORE=<git ref> to measure an older backend in the same run.' : ''}`,
    '',
  ].join('\n');
}
