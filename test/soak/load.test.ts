import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import WebSocket from 'ws';
import { exitOf, startBackendOn, type Backend } from '../helpers/backend-process.js';
import { makeTempDir } from '../helpers/store.js';

/**
 * `npm run soak`: mixed HTTP and WebSocket load from bounded local clients against a real backend
 * child, for SOAK_SECONDS (default 600). Prints the p99 per SOAK_WINDOW_SECONDS window (default 30)
 * and the backend's RSS before, during and after; once the backend is idle after the load (see
 * idleRss), RSS must be back within 20% of before. "Before" is measured the same way after a
 * warm-up (a tenth of the run, at most 30 s), so the bound catches growth under load, not
 * first-use allocations (JIT code, LevelDB's caches) that a fresh process makes once.
 */

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const windowSeconds = Number(process.env.SOAK_WINDOW_SECONDS ?? 30);
const httpClients = Number(process.env.SOAK_HTTP_CLIENTS ?? 4);
// 19 observers and the reconnecting client: the 20 event sockets a user may hold (events.maxSocketsPerUser).
const observers = Number(process.env.SOAK_OBSERVERS ?? 19);
const settleSeconds = Number(process.env.SOAK_SETTLE_SECONDS ?? 150);
const RSS_TOLERANCE = 1.2;

/** The backend's resident set in MiB, from /proc. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  assert.ok(kib > 0, 'VmRSS is readable');
  return kib / 1024;
}

/**
 * The backend's RSS once it is idle: SOAK_SETTLE_SECONDS (default 150) without requests, then until
 * RSS holds still (five 1 s samples within 1%, at most 90 s more). Stillness alone is not idleness:
 * a Node process that stops allocating keeps its grown young generation (~30 MiB under this load)
 * and its garbage until V8's memory reducer collects on a timer, which came 90-105 s after the
 * load in our runs; RSS then fell by 30-45 MiB at once. So RSS holds still for a minute and a half and is not yet what the
 * idle store keeps. Returns the final RSS and one sample per 15 s of the wait.
 */
async function idleRss(pid: number, quietSeconds = settleSeconds): Promise<{ rss: number; trace: number[] }> {
  const samples: number[] = [];
  for (let i = 0; i < quietSeconds + 90; i++) {
    samples.push(await rssMiB(pid));
    const last = samples.slice(-5);
    if (i >= quietSeconds && last.length === 5 && Math.max(...last) <= Math.min(...last) * 1.01) break;
    await sleep(1000);
  }
  return { rss: samples[samples.length - 1], trace: samples.filter((_, i) => i % 15 === 0) };
}

const mibList = (values: number[]) => values.map((v) => v.toFixed(1)).join(', ');

interface Sample {
  at: number;
  ms: number;
}

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

/**
 * One HTTP client: a closed loop of the app's everyday requests on a bounded working set (it
 * deletes and purges what it creates), so the store does not grow with the run.
 */
async function httpClient(backend: Backend, id: number, until: number, samples: Sample[], failures: string[]): Promise<void> {
  const base = `http://127.0.0.1:${backend.port}/v1`;
  const headers = { Authorization: `Bearer ${backend.token}`, 'Content-Type': 'application/json' };
  const call = async (path: string, method = 'GET', body?: unknown, expected = [200]) => {
    const started = performance.now();
    const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    samples.push({ at: Date.now(), ms: performance.now() - started });
    if (!expected.includes(response.status)) failures.push(`${method} ${path} → ${response.status} ${text.slice(0, 200)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const files: string[] = [];
  for (let n = 0; Date.now() < until && failures.length === 0; n++) {
    const created = await call('/files?alt=media', 'POST', { meta: { kind: 'Core#Note', info: { name: `soak ${id}-${n}` } }, media: { n, items: Array(20).fill('x'.repeat(50)) } }, [201]);
    files.push(created.key as string);
    const key = files[n % files.length];
    await call(`/files/${key}`, 'PATCH', [{ op: 'replace', path: '/info/name', value: `renamed ${n}` }]);
    await call(`/files/${key}?alt=media`, 'PUT', { n, items: Array(20).fill('y'.repeat(50)) });
    await call(`/files/${key}`);
    await call(`/files/${key}?alt=media`);
    await call('/files?limit=20');
    await call(`/files?query=${encodeURIComponent(`soak ${id}`)}&limit=10`);
    const batch = (await call('/history/batch/create', 'POST', Array.from({ length: 10 }, (_, i) => ({
      app: `soak-${id}`,
      log: { request: { url: `http://example.invalid/${n}/${i}`, method: 'GET', headers: 'accept: */*', startTime: n } },
    })))) as { items: string[] };
    await call(`/history?type=app&id=soak-${id}&limit=20`);
    await call('/history/batch/delete', 'POST', batch.items, [204]);
    const record = await call(`/app/soak-${id}/requests`, 'POST', { info: { name: `request ${n}` } }, [201]);
    await call(`/app/soak-${id}/requests/${record.key as string}`, 'DELETE', undefined, [204]);
    if (files.length > 20) {
      const old = files.shift()!;
      await call(`/files/${old}`, 'DELETE', undefined, [204]);
      await call(`/trash/${old}`, 'DELETE', undefined, [204]);
    }
    await call(`/changes?since=0&limit=50`);
  }
}

/**
 * A socket that observes `path` and counts what it receives, remembering the last event's seq and
 * the close code once the socket is closed.
 */
function openObserver(
  backend: Backend,
  path = '/files',
  since?: number,
): Promise<{ socket: WebSocket; frames: { count: number; lastSeq: number; closed?: number } }> {
  const socket = new WebSocket(`ws://127.0.0.1:${backend.port}/v1/events?token=${backend.token}`);
  const frames: { count: number; lastSeq: number; closed?: number } = { count: 0, lastSeq: since ?? 0 };
  socket.on('close', (code) => (frames.closed = code));
  socket.on('message', (data) => {
    frames.count += 1;
    if (since !== undefined) frames.lastSeq = Math.max(frames.lastSeq, Number((JSON.parse(String(data)) as { seq?: number }).seq ?? 0));
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => {
      socket.send(JSON.stringify({ kind: 'Core#BackendCommand', cmd: 0, path, ...(since === undefined ? {} : { since }) }));
      resolve({ socket, frames });
    });
  });
}

const closeSocket = (socket: WebSocket) =>
  new Promise<void>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    socket.once('close', () => resolve());
    socket.close();
  });

/**
 * A client that reconnects again and again, resuming with `since` from the last event it saw:
 * the socket churn of laptops waking up. Its sample is the time from connecting to the ack.
 */
async function reconnectingObserver(backend: Backend, until: number, samples: Sample[], failures: string[]): Promise<number> {
  let connections = 0;
  let lastSeq = 0;
  while (Date.now() < until && failures.length === 0) {
    const started = performance.now();
    const { socket, frames } = await openObserver(backend, '/files', lastSeq);
    while (frames.count === 0 && frames.closed === undefined && Date.now() < until) await sleep(5);
    if (frames.count === 0 && frames.closed !== undefined) {
      failures.push(`the reconnecting observer's socket was closed with ${frames.closed} before its first frame`);
      break;
    }
    samples.push({ at: Date.now(), ms: performance.now() - started });
    await sleep(200);
    await closeSocket(socket);
    lastSeq = frames.lastSeq;
    connections += 1;
  }
  return connections;
}

async function runLoad(backend: Backend, durationMs: number) {
  const until = Date.now() + durationMs;
  const httpSamples: Sample[] = [];
  const wsSamples: Sample[] = [];
  const failures: string[] = [];
  const sockets = await Promise.all(Array.from({ length: observers }, () => openObserver(backend)));
  const [, reconnects] = await Promise.all([
    Promise.all(Array.from({ length: httpClients }, (_, id) => httpClient(backend, id, until, httpSamples, failures))),
    reconnectingObserver(backend, until, wsSamples, failures),
  ]);
  const events = sockets.reduce((sum, { frames }) => sum + frames.count, 0);
  await Promise.all(sockets.map(({ socket }) => closeSocket(socket)));
  return { httpSamples, wsSamples, failures, events, reconnects };
}

test(`soak: ${seconds} s of mixed HTTP and WebSocket load; RSS comes back within 20% of before`, async (t) => {
  assert.ok(seconds > 0 && windowSeconds > 0 && settleSeconds >= 0, 'SOAK_SECONDS and SOAK_WINDOW_SECONDS are positive, SOAK_SETTLE_SECONDS not negative');
  const dataDir = await makeTempDir('api-store-soak-');
  const children = new Set<ChildProcess>();
  t.after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all([...children].map(exitOf));
    await rm(dataDir, { recursive: true, force: true });
  });
  const backend = await startBackendOn(dataDir, children);
  const pid = backend.child.pid!;
  const report = (line: string) => console.log(`# ${line}`);

  // A fresh process has allocated little to collect: cold is only reported, after stillness alone.
  const cold = await idleRss(pid, 0);
  const warmup = await runLoad(backend, Math.min(30, seconds / 10) * 1000);
  assert.deepEqual(warmup.failures, []);
  const idleBefore = await idleRss(pid);
  const before = idleBefore.rss;
  report(`RSS cold ${cold.rss.toFixed(1)} MiB; idle after the warm-up (every 15 s) ${mibList(idleBefore.trace)}: before ${before.toFixed(1)} MiB`);

  const started = Date.now();
  const during: { window: number; rss: number }[] = [];
  const sampler = setInterval(() => {
    void rssMiB(pid).then((rss) => during.push({ window: Math.floor((Date.now() - started) / 1000 / windowSeconds), rss }), () => {});
  }, 1000);
  const load = await runLoad(backend, seconds * 1000);
  clearInterval(sampler);
  const peak = Math.max(...during.map((s) => s.rss));
  const idleAfter = await idleRss(pid);
  const after = idleAfter.rss;

  report(`| window (s) | HTTP requests | HTTP p50 ms | HTTP p99 ms | WS resume p99 ms | RSS max MiB |`);
  report(`|---|---|---|---|---|---|`);
  const windows = Math.ceil(seconds / windowSeconds);
  for (let w = 0; w < windows; w++) {
    const inWindow = (s: Sample) => Math.floor((s.at - started) / 1000 / windowSeconds) === w;
    const http = load.httpSamples.filter(inWindow).map((s) => s.ms);
    const ws = load.wsSamples.filter(inWindow).map((s) => s.ms);
    const rss = Math.max(0, ...during.filter((s) => s.window === w).map((s) => s.rss));
    report(`| ${w * windowSeconds}–${Math.min(seconds, (w + 1) * windowSeconds)} | ${http.length} | ${percentile(http, 50).toFixed(1)} | ${percentile(http, 99).toFixed(1)} | ${percentile(ws, 99).toFixed(1)} | ${rss.toFixed(1)} |`);
  }
  const all = load.httpSamples.map((s) => s.ms);
  report(`HTTP requests ${all.length} (p50 ${percentile(all, 50).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms), events received ${load.events}, socket reconnects ${load.reconnects}`);
  report(`RSS idle after the load (every 15 s) ${mibList(idleAfter.trace)}`);
  report(`RSS before ${before.toFixed(1)} MiB, peak during ${peak.toFixed(1)} MiB, after (idle) ${after.toFixed(1)} MiB (${((after / before - 1) * 100).toFixed(1)}%)`);

  assert.deepEqual(load.failures, [], 'every request got the answer it asked for');
  assert.ok(load.events > 0, 'the observers received events');
  assert.ok(after <= before * RSS_TOLERANCE, `RSS after the load (${after.toFixed(1)} MiB) is within 20% of before (${before.toFixed(1)} MiB)`);

  backend.child.send({ type: 'shutdown' });
  assert.deepEqual(await exitOf(backend.child), { code: 0, signal: null });
});
