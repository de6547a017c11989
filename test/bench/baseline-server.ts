/**
 * The baselines: serves JSON documents from a Map, nothing else. By default on raw node:http;
 * with the argument `framework` or `shell`, through a framework floor of api-store (Hono on
 * @hono/node-server with the request id and the hard-shell headers, no auth, validation or
 * storage), which shows how close to raw node:http api-store could get at best.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../../backend/src/http/env.js';
import { hardShell } from '../../backend/src/http/shell.js';
import { createLogger } from '../../backend/src/logger.js';

const documents = new Map<string, string>();

process.on('message', (message: { type: 'put'; key: string; value: unknown }) => {
  documents.set(message.key, JSON.stringify(message.value));
  process.send?.({ type: 'stored', key: message.key });
});

function answer(url: string | undefined, res: ServerResponse): void {
  const body = documents.get(url ?? '');
  if (body === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

function raw(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET') return answer(req.url, res);
  // A write's body is read and parsed, the least any JSON endpoint does, before the answer.
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    answer(req.url, res);
  });
}

/**
 * `framework`: Hono with its request-id and secure-headers middleware setting the hard-shell
 * headers (DESIGN's default way, and api-store's shell before it set them itself); `shell`: Hono
 * with api-store's own shell middleware.
 */
function framework(kind: string) {
  const app = new Hono<AppEnv>();
  if (kind === 'shell') app.use(hardShell(false, createLogger('silent')));
  else {
    app.use(requestId({ headerName: 'X-Request-ID' }));
    const secure = secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      strictTransportSecurity: false,
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xFrameOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    });
    app.use(async (c, next) => {
      const started = performance.now();
      await secure(c, next);
      c.res.headers.set('Cache-Control', 'no-store');
      c.res.headers.set('X-Response-Time', `${(performance.now() - started).toFixed(2)}ms`);
    });
  }
  app.all('*', async (c) => {
    if (c.req.method !== 'GET') await c.req.json();
    const url = c.req.url;
    const body = documents.get(url.slice(url.indexOf('/', url.indexOf('//') + 2)));
    return body === undefined ? c.body(null, 404) : c.body(body, 200, { 'Content-Type': 'application/json' });
  });
  return getRequestListener(app.fetch);
}

const server = createServer(process.argv[2] ? framework(process.argv[2]) : raw);
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
