import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  body?: string;
  connections?: number;
  seconds?: number;
}

const defaultSeconds = 5;

/** A fixed-duration autocannon run against one loopback URL (the loop stops by itself). */
export async function measure(url: string, options: LoadOptions = {}): Promise<LoadResult> {
  const result = await autocannon({
    url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    connections: options.connections ?? 50,
    duration: options.seconds ?? defaultSeconds,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/**
 * `measure` with the server process's CPU time per request (from /proc, every thread), in µs: the
 * host's speed here swings the rates by 2× from one run to the next, the CPU a request costs much
 * less. An upper bound: the CPU of requests still in flight when the run ends is counted, they are not.
 */
export async function measureWithCpu(pid: number, url: string, options: LoadOptions = {}): Promise<LoadResult & { cpuUs: number }> {
  const before = procStat(pid).cpuMs ?? NaN;
  const result = await measure(url, options);
  return { ...result, cpuUs: (((procStat(pid).cpuMs ?? NaN) - before) * 1000) / (result.rps * (options.seconds ?? defaultSeconds)) };
}

export interface BenchProcess<T> {
  info: T;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs a bench server in its own process (so the load generator does not share its event loop)
 * and waits for the first message it sends, which describes where it listens.
 */
export function startBenchProcess<T>(script: URL, args: string[] = []): Promise<BenchProcess<T>> {
  const child = fork(script, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench process ${script.pathname} exited with ${code}`)));
    child.once('message', (info) => {
      child.removeAllListeners('exit');
      resolve({
        info: info as T,
        child,
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

export const ratio = (store: number, baseline: number) => (baseline ? store / baseline : 0);

export function row(name: string, store: LoadResult, baseline: LoadResult): string {
  return `| ${name} | ${baseline.rps.toFixed(0)} | ${store.rps.toFixed(0)} | ${ratio(store.rps, baseline.rps).toFixed(2)}x | ${baseline.p50}/${baseline.p99} | ${store.p50}/${store.p99} | ${store.errors + store.non2xx} |`;
}

export const tableHeader =
  '| case | baseline rps | api-store rps | ratio | baseline p50/p99 ms | api-store p50/p99 ms | api-store errors |\n|---|---|---|---|---|---|---|';

/** Sequential requests on one keep-alive connection: a latency figure finer than autocannon's whole milliseconds. */
export async function sequentialLatency(url: string, headers: Record<string, string>, count = 1000): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(count * 0.5)], p99: times[Math.floor(count * 0.99)] };
}

/** CPU time and resident memory of a process, from /proc (Linux only). */
export function procStat(pid: number): { cpuMs?: number; rssMb?: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, rssMb: rss ? Number(rss) / 1024 : undefined };
  } catch {
    return {};
  }
}
