import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { procStat, startBenchProcess, type BenchProcess } from '../load.js';

/**
 * Event delivery: 100 sockets observe, one writer changes at a steady rate; latency is measured
 * from the moment the write is sent to each socket's receipt. The sockets live in 4 receiving
 * processes (event-receivers.ts), so that reading 100 × rate frames a second does not fall behind
 * in one event loop and time the load generator instead of the server. api-store's writer PATCHes files
 * (the event travels through the store: validation, LevelDB batch, feed, permission check); the
 * baseline's writer POSTs the same JSON to a minimal `ws` broadcast server.
 */
const subscribers = 100;
const rates = [100, 200, 400, 600, 800, 1000];
/**
 * Each rate runs twice against each target, the baseline and api-store taking turns, so that a
 * change in the machine's speed while a rate runs (from one few minutes to the next it doubles or
 * halves here) weighs on both sides alike. A slice lasts long enough for a server short of the
 * rate to build a backlog: 6 rates × 2 slices × 2 targets × 4 s ≈ 2 minutes, after the warm-up.
 */
const slicesPerRate = 2;
const secondsPerSlice = 4;
/**
 * Before the measured rates each target serves this load unrecorded, so that the first rate does
 * not time the JIT compiling the write's path (api-store's first PATCHes) instead of the server.
 */
const warmUp = { rate: 100, seconds: 2 };
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

/** One slice of a rate against one target: what was sent, what arrived, the CPU time spent (ms). */
interface Slice {
  sent: number;
  failed: number;
  expected: number;
  latencies: number[];
  serverCpuMs: number;
  receiversCpuMs: number;
  writerCpuMs: number;
}

/** A rate's slices against one target, summed up. */
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
  /** The receiving processes' CPU time per write, in ms (reading the event on 100 sockets). */
  receiversCpuPerEvent: number;
  /** The writer's (this process's) CPU time per write, in ms. */
  writerCpuPerEvent: number;
}

/** The receiving sockets are spread over this many processes (see event-receivers.ts). */
const receiverProcesses = 4;

type Receivers = BenchProcess<{ opened: number }>[];

async function openReceivers(target: Target): Promise<Receivers> {
  const script = new URL('../event-receivers.ts', import.meta.url);
  const shares = Array.from({ length: receiverProcesses }, (_, i) => Math.floor((subscribers * (i + 1)) / receiverProcesses) - Math.floor((subscribers * i) / receiverProcesses));
  return Promise.all(shares.map((share) => startBenchProcess<{ opened: number }>(script, [target.socketUrl, target.subscribe ?? '', String(share)])));
}

function nextMessage<T>(receiver: BenchProcess<unknown>, type: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: { type?: string }) => {
      if (message.type !== type) return;
      receiver.child.off('message', listener);
      resolve(message as T);
    };
    receiver.child.on('message', listener);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

const receiversCpu = (receivers: Receivers) => receivers.reduce((sum, receiver) => sum + (procStat(receiver.child.pid!).cpuMs ?? NaN), 0);

/** The writer's send time in the id: µs of CLOCK_MONOTONIC, which the receivers' processes share. */
const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

/** One slice: writes spaced evenly (open loop, never waiting for the previous one). */
async function slice(target: Target, receivers: Receivers, rate: number, seconds: number, name: string): Promise<Slice> {
  const count = Math.round(rate * seconds);
  const sliceId = `${target.name}-${name}`;
  const allDone = Promise.all(
    receivers.map((receiver) => {
      receiver.child.send({ type: 'start', step: sliceId, expected: count * receiver.info.opened });
      return nextMessage(receiver, 'done');
    }),
  );

  const cpuBefore = procStat(target.pid).cpuMs ?? NaN;
  const receiversBefore = receiversCpu(receivers);
  const writerBefore = process.cpuUsage();
  const start = performance.now();
  let failed = 0;
  const writes: Promise<unknown>[] = [];
  for (let n = 0; n < count; ) {
    const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; n < due; n++) {
      const write = target.write(`bench-${sliceId}-${n}-${nowMicros()}`).catch((error) => {
        if (failed++ === 0) console.error(`events: ${sliceId}: a write failed: ${String(error)}`);
      });
      writes.push(write);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(writes);
  const drained = new Promise((resolve) => setTimeout(resolve, drainMs));
  await Promise.race([allDone, drained]);
  const serverCpuMs = (procStat(target.pid).cpuMs ?? NaN) - cpuBefore;
  const receiversCpuMs = receiversCpu(receivers) - receiversBefore;
  const writer = process.cpuUsage(writerBefore);
  const reports = await Promise.all(
    receivers.map((receiver) => {
      const report = nextMessage<{ latencies: number[] }>(receiver, 'report');
      receiver.child.send({ type: 'report' });
      return report;
    }),
  );
  const latencies = reports.flatMap((report) => report.latencies);
  return { sent: count, failed, expected: count * subscribers, latencies, serverCpuMs, receiversCpuMs, writerCpuMs: (writer.user + writer.system) / 1000 };
}

function summarize(rate: number, slices: Slice[]): StepResult {
  const sum = (of: (slice: Slice) => number) => slices.reduce((total, slice) => total + of(slice), 0);
  const sent = sum((slice) => slice.sent);
  const sorted = slices.flatMap((slice) => slice.latencies).sort((a, b) => a - b);
  return {
    rate,
    sent,
    failed: sum((slice) => slice.failed),
    delivered: sorted.length,
    expected: sum((slice) => slice.expected),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    cpuPerEvent: sum((slice) => slice.serverCpuMs) / sent,
    receiversCpuPerEvent: sum((slice) => slice.receiversCpuMs) / sent,
    writerCpuPerEvent: sum((slice) => slice.writerCpuMs) / sent,
  };
}

/** Both targets at each rate, back to back, so that they share the machine's conditions. */
async function measure(targets: Target[]): Promise<StepResult[][]> {
  const receivers = await Promise.all(targets.map(openReceivers));
  try {
    for (const [i, target] of targets.entries()) await slice(target, receivers[i], warmUp.rate, warmUp.seconds, 'warm-up');
    const results: StepResult[][] = targets.map(() => []);
    for (const rate of rates) {
      const slices: Slice[][] = targets.map(() => []);
      for (let n = 0; n < slicesPerRate; n++) {
        for (const [i, target] of targets.entries()) slices[i].push(await slice(target, receivers[i], rate, secondsPerSlice, `${rate}-${n}`));
      }
      for (const [i, target] of targets.entries()) {
        const result = summarize(rate, slices[i]);
        console.error(`events: ${target.name} ${rate}/s: ${result.delivered}/${result.expected} delivered, p99 ${ms(result.p99)} ms, ${result.cpuPerEvent.toFixed(2)} ms CPU/event, receivers ${result.receiversCpuPerEvent.toFixed(2)}, writer ${result.writerCpuPerEvent.toFixed(2)}`);
        results[i].push(result);
      }
    }
    return results;
  } finally {
    await Promise.all(receivers.flat().map((receiver) => receiver.stop()));
  }
}

/** The highest rate at which every event reached every socket with p99 under 20 ms. */
const sustained = (results: StepResult[]) =>
  results.filter((r) => r.delivered === r.expected && r.p99 < 20).reduce((best, r) => Math.max(best, r.rate), 0);

/**
 * The highest rate at which api-store delivered every event with a p99 at most twice the baseline's,
 * among the rates the baseline held (above those, both p99s measure a backlog on the machine).
 */
const withinTwice = (baseline: StepResult[], store: StepResult[]) =>
  store.reduce((best, s, i) => (s.delivered === s.expected && sustained([baseline[i]]) && s.p99 <= 2 * baseline[i].p99 ? Math.max(best, s.rate) : best), 0);

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
    // undici's request API on a pool costs the writer less CPU per write than fetch does.
    const baselinePool = new Pool(`http://127.0.0.1:${baselineProcess.info.port}`);
    const storePool = new Pool(new URL(baseUrl).origin);
    const prefix = new URL(baseUrl).pathname;
    const send = async (pool: Pool, options: Omit<Dispatcher.RequestOptions, 'origin'>) => {
      const { statusCode, body } = await pool.request(options);
      await body.dump();
      if (statusCode >= 400) throw new Error(`write answered ${statusCode}`);
    };
    let next = 0;
    const [baseline, store] = await measure([
      {
        name: 'baseline',
        pid: baselineProcess.child.pid!,
        socketUrl: `ws://127.0.0.1:${baselineProcess.info.port}`,
        write: (id) => send(baselinePool, { method: 'POST', path: '/publish', body: JSON.stringify({ type: 'event', id }) }),
      },
      {
        name: 'api-store',
        pid: storeProcess.child.pid!,
        socketUrl: `${baseUrl.replace(/^http/, 'ws')}/events?token=${token}`,
        subscribe: JSON.stringify({ kind: 'Core#BackendCommand', cmd: 0, path: '/files' }),
        write: (id) =>
          send(storePool, {
            method: 'PATCH',
            path: `${prefix}/files/${files[next++ % files.length]}`,
            headers,
            body: JSON.stringify([{ op: 'replace', path: '/info/name', value: id }]),
          }),
      },
    ]);
    await Promise.all([baselinePool.close(), storePool.close()]);

    const lines = [
      `### Events: ${subscribers} sockets observing, one writer at a steady rate, ${slicesPerRate} slices of ${secondsPerSlice} s per rate, the two targets taking turns`,
      '',
      'Latency from sending the write to each socket receiving its event. api-store: `PATCH /v1/files/{key}` → `/files` observers; baseline: `POST /publish` to a minimal `ws` broadcast server. ' +
        `Server CPU: the server process's CPU time (from /proc) over the rate's slices divided by the writes sent, the write included; receivers: the same for the ${receiverProcesses} processes that hold the ${subscribers} receiving sockets (the load generator's side); writer: the bench process that sends the writes.`,
      '',
      '| events/s | baseline delivered | baseline p50/p99 ms | api-store delivered | api-store p50/p99 ms | p99 ratio | server CPU ms/event (baseline/api-store) | receivers CPU ms/event (baseline/api-store) | writer CPU ms/event (baseline/api-store) | failed writes (baseline/api-store) |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rates.map((rate, i) => {
        const b = baseline[i];
        const s = store[i];
        return `| ${rate} | ${b.delivered}/${b.expected} | ${ms(b.p50)}/${ms(b.p99)} | ${s.delivered}/${s.expected} | ${ms(s.p50)}/${ms(s.p99)} | ${(s.p99 / b.p99).toFixed(2)}x | ${b.cpuPerEvent.toFixed(2)}/${s.cpuPerEvent.toFixed(2)} | ${b.receiversCpuPerEvent.toFixed(2)}/${s.receiversCpuPerEvent.toFixed(2)} | ${b.writerCpuPerEvent.toFixed(2)}/${s.writerCpuPerEvent.toFixed(2)} | ${b.failed}/${s.failed} |`;
      }),
      '',
      `Highest rate with every event delivered and p99 < 20 ms: baseline ${sustained(baseline)}/s, api-store ${sustained(store)}/s (ratio ${(sustained(store) / (sustained(baseline) || 1)).toFixed(2)}x).`,
      `Highest rate the baseline held at which api-store delivered every event with p99 ≤ 2× the baseline's: ${withinTwice(baseline, store)}/s.`,
      `Machine load average (1 min) before/after: ${loadBefore.toFixed(1)}/${loadavg()[0].toFixed(1)}.`,
      '',
    ];
    return lines.join('\n');
  } finally {
    await Promise.all([baselineProcess.stop(), storeProcess.stop()]);
  }
}
