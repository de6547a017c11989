import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { procStat, startBenchProcess } from '../load.js';

/**
 * Event delivery: 100 sockets observe, one writer changes at a steady rate; latency is measured
 * from the moment the write is sent to each socket's receipt. api-store's writer PATCHes files
 * (the event travels through the store: validation, LevelDB batch, feed, permission check); the
 * baseline's writer POSTs the same JSON to a minimal `ws` broadcast server.
 */
const subscribers = 100;
/** Each rate runs against the baseline, then api-store; 6 rates × 2 × 4 s ≈ a minute. */
const rates = [100, 200, 400, 600, 800, 1000];
const secondsPerRate = 4;
/** After the last write, how long stragglers may take before they count as not delivered. */
const drainMs = 2000;

interface Target {
  name: string;
  socketUrl: string;
  /** After open: what a socket sends before it receives events (the observe command). */
  subscribe?: string;
  /** Sends write `id` (a string that comes back inside the event). */
  write(id: string): Promise<unknown>;
  /** The server's process: its CPU time per event does not depend on how loaded the machine is. */
  pid: number;
}

interface StepResult {
  rate: number;
  sent: number;
  /** Writes that failed (connection reset under load): their events are counted as not delivered. */
  failed: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
  /** The server process's CPU time per write, in ms (the write, delivery to every socket). */
  cpuPerEvent: number;
}

async function openSockets(target: Target): Promise<WebSocket[]> {
  return Promise.all(
    Array.from({ length: subscribers }, async () => {
      const socket = new WebSocket(target.socketUrl);
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      if (target.subscribe) {
        socket.send(target.subscribe);
        await new Promise((resolve) => socket.once('message', resolve)); // the ack
      }
      return socket;
    }),
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** One rate: writes spaced evenly (open loop, never waiting for the previous one). */
async function step(target: Target, sockets: WebSocket[], rate: number, tag: string): Promise<StepResult> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const expected = Math.round(rate * secondsPerRate) * sockets.length;
  let allDelivered!: () => void;
  const done = new Promise<void>((resolve) => (allDelivered = resolve));
  const onMessage = (data: WebSocket.RawData) => {
    // The id is found by pattern rather than by parsing, so the load generator stays light.
    const id = /bench-[a-z-]+-\d+-\d+/.exec(String(data))?.[0];
    const sent = id === undefined ? undefined : sentAt.get(id);
    if (sent === undefined) return;
    latencies.push(performance.now() - sent);
    if (latencies.length === expected) allDelivered();
  };
  for (const socket of sockets) socket.on('message', onMessage);

  const count = Math.round(rate * secondsPerRate);
  const cpuBefore = procStat(target.pid).cpuMs ?? NaN;
  const start = performance.now();
  let failed = 0;
  const writes: Promise<unknown>[] = [];
  for (let n = 0; n < count; ) {
    const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; n < due; n++) {
      const id = `bench-${tag}-${rate}-${n}`;
      sentAt.set(id, performance.now());
      writes.push(target.write(id).catch(() => (failed += 1)));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(writes);
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, drainMs))]);
  for (const socket of sockets) socket.off('message', onMessage);
  const cpuPerEvent = ((procStat(target.pid).cpuMs ?? NaN) - cpuBefore) / count;
  const sorted = latencies.sort((a, b) => a - b);
  return { rate, sent: count, failed, delivered: latencies.length, expected, p50: percentile(sorted, 50), p99: percentile(sorted, 99), cpuPerEvent };
}

/** Both targets at each rate, back to back, so that they share the machine's conditions. */
async function measure(targets: Target[]): Promise<StepResult[][]> {
  const sockets = await Promise.all(targets.map(openSockets));
  try {
    const results: StepResult[][] = targets.map(() => []);
    for (const rate of rates) {
      for (const [i, target] of targets.entries()) {
        const result = await step(target, sockets[i], rate, target.name);
        console.error(`events: ${target.name} ${rate}/s: ${result.delivered}/${result.expected} delivered, p99 ${ms(result.p99)} ms`);
        results[i].push(result);
      }
    }
    return results;
  } finally {
    for (const socket of sockets.flat()) socket.terminate();
  }
}

/** The highest rate at which every event reached every socket with p99 under 20 ms. */
const sustained = (results: StepResult[]) =>
  results.filter((r) => r.delivered === r.expected && r.p99 < 20).reduce((best, r) => Math.max(best, r.rate), 0);

const ms = (value: number) => (Number.isNaN(value) ? '–' : value.toFixed(1));

export async function run(): Promise<string> {
  const loadBefore = loadavg()[0];
  const baselineProcess = await startBenchProcess<{ port: number }>(new URL('../ws-baseline-server.ts', import.meta.url));
  const storeProcess = await startBenchProcess<{ baseUrl: string; token: string }>(new URL('../store-server.ts', import.meta.url));
  try {
    const { baseUrl, token } = storeProcess.info;
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const files: string[] = [];
    for (let n = 0; n < 10; n++) {
      const response = await fetch(`${baseUrl}/files`, { method: 'POST', headers, body: JSON.stringify({ kind: 'Core#HttpProject', info: { name: `bench ${n}` } }) });
      files.push(((await response.json()) as { key: string }).key);
    }
    let next = 0;
    const [baseline, store] = await measure([
      {
        name: 'baseline',
        pid: baselineProcess.child.pid!,
        socketUrl: `ws://127.0.0.1:${baselineProcess.info.port}`,
        write: (id) => fetch(`http://127.0.0.1:${baselineProcess.info.port}/publish`, { method: 'POST', body: JSON.stringify({ type: 'event', id }) }).then((r) => r.arrayBuffer()),
      },
      {
        name: 'api-store',
        pid: storeProcess.child.pid!,
        socketUrl: `${baseUrl.replace(/^http/, 'ws')}/events?token=${token}`,
        subscribe: JSON.stringify({ kind: 'Core#BackendCommand', cmd: 0, path: '/files' }),
        write: (id) =>
          fetch(`${baseUrl}/files/${files[next++ % files.length]}`, {
            method: 'PATCH',
            headers,
            body: JSON.stringify([{ op: 'replace', path: '/info/name', value: id }]),
          }).then((r) => r.arrayBuffer()),
      },
    ]);

    const lines = [
      `### Events: ${subscribers} sockets observing, one writer at a steady rate, ${secondsPerRate} s per rate`,
      '',
      'Latency from sending the write to each socket receiving its event. api-store: `PATCH /v1/files/{key}` → `/files` observers; baseline: `POST /publish` to a minimal `ws` broadcast server. Server CPU: the server process\'s CPU time (from /proc) over the step divided by the writes sent, the write included.',
      '',
      '| events/s | baseline delivered | baseline p50/p99 ms | api-store delivered | api-store p50/p99 ms | p99 ratio | server CPU ms/event (baseline/api-store) | failed writes (baseline/api-store) |',
      '|---|---|---|---|---|---|---|---|',
      ...rates.map((rate, i) => {
        const b = baseline[i];
        const s = store[i];
        return `| ${rate} | ${b.delivered}/${b.expected} | ${ms(b.p50)}/${ms(b.p99)} | ${s.delivered}/${s.expected} | ${ms(s.p50)}/${ms(s.p99)} | ${(s.p99 / b.p99).toFixed(2)}x | ${b.cpuPerEvent.toFixed(2)}/${s.cpuPerEvent.toFixed(2)} | ${b.failed}/${s.failed} |`;
      }),
      '',
      `Highest rate with every event delivered and p99 < 20 ms: baseline ${sustained(baseline)}/s, api-store ${sustained(store)}/s (ratio ${(sustained(store) / (sustained(baseline) || 1)).toFixed(2)}x).`,
      `Machine load average (1 min) before/after: ${loadBefore.toFixed(1)}/${loadavg()[0].toFixed(1)}.`,
      '',
    ];
    return lines.join('\n');
  } finally {
    await Promise.all([baselineProcess.stop(), storeProcess.stop()]);
  }
}
