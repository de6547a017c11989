/** The raw node:http baseline: serves JSON documents from a Map, nothing else. */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

const server = createServer((req, res) => {
  if (req.method === 'GET') return answer(req.url, res);
  // A write's body is read and parsed, the least any JSON endpoint does, before the answer.
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    answer(req.url, res);
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
