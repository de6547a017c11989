import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ListenerSockets } from '../events/sockets.js';
import { answerClientErrors } from './client-errors.js';

export interface Listening {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish, then closes idle keep-alive connections. */
  close(): Promise<void>;
}

/**
 * Serves an app on exactly the given host (never all interfaces by accident) and resolves with
 * the real port, or rejects with the listen error (EADDRINUSE, EACCES). An app built by
 * `createApp` brings its WebSocket side, which is served on this server and closed (1001) with it,
 * and the largest body it accepts, which bounds what is read of a body it refused.
 */
export function listen(
  app: Hono<any> & { sockets?: ListenerSockets; maxBodyBytes: number },
  host: string,
  port: number,
  createServer: typeof createAdaptorServer = createAdaptorServer,
): Promise<Listening> {
  // The adapter's own cleanup of unread bodies is replaced by `discardUnreadBodies`.
  const server = createServer({ fetch: app.fetch, hostname: host, autoCleanupIncoming: false }) as Server;
  discardUnreadBodies(server, app.maxBodyBytes);
  app.sockets?.inject(server);
  answerClientErrors(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            void app.sockets?.close();
          }),
      });
    });
  });
}

/**
 * A request answered before its body was read (a 401, 404, 413...) leaves the rest of the body on
 * the connection, in front of the client's next request. @hono/node-server would drain it for at
 * most 500 ms and then destroy the socket, failing whatever the client sent next on it. Here the
 * rest is read and discarded instead, up to `maxBytes`, the largest body the app accepts: a
 * declared longer body is answered with `Connection: close`, and a chunked body that turns out
 * longer closes the connection once its answer is sent. Slow bodies are bounded by the server's
 * `requestTimeout`.
 */
function discardUnreadBodies(server: Server, maxBytes: number): void {
  // First in line, so that the header is set before any answer is written.
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    if (Number(request.headers['content-length']) > maxBytes) response.setHeader('Connection', 'close');
    response.once('finish', () => {
      if (!request.complete) discard(request, maxBytes);
    });
  });
}

function discard(request: IncomingMessage, maxBytes: number): void {
  // The app's body reader, which nobody reads any more, would pause the stream again.
  request.removeAllListeners('data');
  let read = 0;
  request.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > maxBytes) request.socket.destroy();
  });
  request.resume();
}
