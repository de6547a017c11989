/**
 * The baselines: serves JSON documents from a Map, nothing else. By default on raw node:http;
 * with the argument `hono` or `shell`, through one of api-store's framework floors
 * (framework-floor.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { floorApp, type FloorKind } from './framework-floor.js';

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

function framework(kind: string) {
  return getRequestListener(
    floorApp(kind as FloorKind, async (c) => {
      if (c.req.method !== 'GET') await c.req.json();
      const url = c.req.url;
      return documents.get(url.slice(url.indexOf('/', url.indexOf('//') + 2)));
    }).fetch,
  );
}

const server = createServer(process.argv[2] ? framework(process.argv[2]) : raw);
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
