/**
 * The events baseline: the least a broadcast server can do with the `ws` package. `POST /publish`
 * sends the request body to every connected socket, then answers 204.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    for (const socket of sockets.clients) socket.send(body);
    res.writeHead(204).end();
  });
});
const sockets = new WebSocketServer({ server });
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => {
  for (const socket of sockets.clients) socket.terminate();
  server.close(() => process.exit(0));
});
