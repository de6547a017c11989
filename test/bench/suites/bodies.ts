import { measureWithCpu, ratio, row, startBenchProcess, tableHeader } from '../load.js';
import { benchProject } from './files.js';

/**
 * Requests with a body: `POST /v1/files` and `PATCH /v1/files/{key}` against the raw node:http
 * baseline, which reads and parses the same body before answering. Issue 15 asks for the ratio
 * to grow once bodies are read from Node's request without a Fetch Request.
 */

const SECONDS = 5;

export async function run(): Promise<string> {
  const server = await startBenchProcess<{ baseUrl: string; token: string }>(new URL('../files-server.ts', import.meta.url));
  const baseline = await startBenchProcess<{ port: number }>(new URL('../baseline-server.ts', import.meta.url));
  try {
    const headers = { Authorization: `Bearer ${server.info.token}`, 'Content-Type': 'application/json' };
    const created = (await (await fetch(`${server.info.baseUrl}/files`, { method: 'POST', headers, body: JSON.stringify(benchProject(0)) })).json()) as { key: string };
    await new Promise((done) => {
      baseline.child.once('message', done);
      baseline.child.send({ type: 'put', key: '/v1/files', value: created });
    });
    const load = (method: 'POST' | 'PATCH', body: unknown) => ({ method: method as 'POST', body: JSON.stringify(body), headers, connections: 10, seconds: SECONDS });
    const post = load('POST', benchProject(1));
    const patch = load('PATCH', [{ op: 'replace', path: '/info/description', value: benchProject(2).info.description }]);
    const lines: string[] = [];
    const baselineUrl = `http://127.0.0.1:${baseline.info.port}/v1/files`;
    const base = await measureWithCpu(baseline.child.pid!, baselineUrl, post);
    const create = await measureWithCpu(server.child.pid!, `${server.info.baseUrl}/files`, post);
    lines.push(row('POST /files (one project, ~400 B)', create, base));
    const basePatch = await measureWithCpu(baseline.child.pid!, baselineUrl, patch);
    const patched = await measureWithCpu(server.child.pid!, `${server.info.baseUrl}/files/${created.key}`, patch);
    lines.push(row('PATCH /files/{key} (one replace)', patched, basePatch));
    const cpu = (baselineRun: { cpuUs: number }, store: { cpuUs: number }) => `${baselineRun.cpuUs.toFixed(0)} / ${store.cpuUs.toFixed(0)}`;
    return [
      `### Requests with a body (10 connections, ${SECONDS} s each; the baseline reads and parses the body)`,
      '',
      tableHeader,
      ...lines,
      '',
      `**POST ${ratio(create.rps, base.rps).toFixed(2)}×, PATCH ${ratio(patched.rps, basePatch.rps).toFixed(2)}× the baseline.**`,
      '',
      `Server CPU per request, µs (baseline / api-store, the server process's every thread): POST ${cpu(base, create)}, PATCH ${cpu(basePatch, patched)}.`,
      '',
    ].join('\n');
  } finally {
    await Promise.all([server.stop(), baseline.stop()]);
  }
}
