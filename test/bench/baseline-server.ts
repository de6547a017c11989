/** The raw node:http baseline: serves JSON documents from a Map, nothing else. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const documents = new Map<string, string>();

process.on('message', (message: { type: 'put'; key: string; value: unknown }) => {
  documents.set(message.key, JSON.stringify(message.value));
  process.send?.({ type: 'stored', key: message.key });
});

const server = createServer((req, res) => {
  const body = documents.get(req.url ?? '');
  if (body === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
