import { mkdtemp, rm } from 'node:fs/promises';
import { IncomingMessage, ServerResponse, type RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { createLaunchToken, localTokenAuthenticator } from '../../../backend/src/auth/local-token.js';
import { configSchema } from '../../../backend/src/config.js';
import { createApp } from '../../../backend/src/http/app.js';
import { createLogger } from '../../../backend/src/logger.js';
import { startStore } from '../../../backend/src/server.js';
import { floorApp } from '../framework-floor.js';
import { benchProject } from './files.js';

/**
 * GET /v1/files/{key} without the network: each request listener (raw node:http, the two
 * framework floors of framework-floor.ts, api-store's app) is called in this process with Node's own
 * `IncomingMessage` and `ServerResponse` over a socket that discards what is written, one request
 * at a time. The figure is CPU per request (the best of 10 rounds of 10,000), which depends far
 * less on other work on the machine than a loopback rate does; the network's own cost, the same
 * for every listener, is left out, so the ratios are lower than over loopback. Each round
 * measures every listener in turn, so a change of load on the machine weighs on all of them.
 */
const ROUNDS = 10;
const REQUESTS = 10_000;

/**
 * One request through `listener` in this process: Node's own `IncomingMessage` (with `body`, when
 * given, and its Content-Length) and `ServerResponse` over a socket that discards what is written.
 * Resolves with the status once the answer is finished.
 */
export function call(listener: RequestListener, url: string, headers: Record<string, string>, request: { method?: string; body?: string } = {}): Promise<number> {
  const socket = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done(), writev: (_chunks, done) => done() });
  const incoming = new IncomingMessage(socket as never);
  Object.assign(incoming, { method: request.method ?? 'GET', url, httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1, complete: true });
  const all = request.body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(request.body)) };
  for (const [name, value] of Object.entries(all)) {
    incoming.headers[name.toLowerCase()] = value;
    incoming.rawHeaders.push(name, value);
  }
  if (request.body !== undefined) incoming.push(Buffer.from(request.body));
  incoming.push(null);
  const response = new ServerResponse(incoming);
  response.assignSocket(socket as never);
  return new Promise((done) => {
    response.once('finish', () => done(response.statusCode));
    listener(incoming, response);
  });
}

/** The best CPU per request of each listener, in µs. */
async function cpuPerRequest(listeners: RequestListener[], url: string, headers: Record<string, string>): Promise<number[]> {
  for (const listener of listeners) for (let i = 0; i < REQUESTS / 5; i++) await call(listener, url, headers);
  const best = listeners.map(() => Infinity);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, listener] of listeners.entries()) {
      const before = process.cpuUsage();
      for (let i = 0; i < REQUESTS; i++) await call(listener, url, headers);
      const used = process.cpuUsage(before);
      best[index] = Math.min(best[index], (used.user + used.system) / REQUESTS);
    }
  }
  return best;
}

export async function run(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'api-store-bench-files-cpu-'));
  const token = createLaunchToken();
  const config = configSchema.parse({ dataDir, token, logLevel: 'silent' });
  const running = await startStore(config, createLogger('silent'));
  try {
    const base = `http://127.0.0.1:${running.port}${config.prefix}`;
    const auth = { Authorization: `Bearer ${token}` };
    const created = await fetch(`${base}/files`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(benchProject(0)) });
    const { key } = (await created.json()) as { key: string };
    const document = await (await fetch(`${base}/files/${key}`, { headers: auth })).text();

    const raw: RequestListener = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(document) }).end(document);
    };
    const app = createApp(running.services, { loopback: true, tls: false, authenticator: localTokenAuthenticator(token) });
    const url = `${config.prefix}/files/${key}`;
    const headers = { Host: `127.0.0.1:${running.port}`, ...auth, Accept: '*/*', 'User-Agent': 'bench' };
    const [rawUs, honoUs, shellUs, storeUs] = await cpuPerRequest(
      [raw, getRequestListener(floorApp('hono', () => document).fetch), getRequestListener(floorApp('shell', () => document).fetch), getRequestListener(app.fetch)],
      url,
      headers,
    );
    return [
      `### GET /files/{key} without the network: CPU per request (best of ${ROUNDS} × ${REQUESTS.toLocaleString('en')})`,
      '',
      '| listener | µs per request | raw / listener |',
      '|---|---|---|',
      `| raw node:http | ${rawUs.toFixed(1)} | 1.00x |`,
      `| Hono with its request-id and secure-headers middleware, the JSON from memory | ${honoUs.toFixed(1)} | ${(rawUs / honoUs).toFixed(2)}x |`,
      `| Hono with api-store's shell middleware, the JSON from memory | ${shellUs.toFixed(1)} | ${(rawUs / shellUs).toFixed(2)}x |`,
      `| api-store | ${storeUs.toFixed(1)} | ${(rawUs / storeUs).toFixed(2)}x |`,
      '',
    ].join('\n');
  } finally {
    await running.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
