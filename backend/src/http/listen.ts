import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
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
 * `createApp` brings its WebSocket side, which is served on this server and closed (1001) with it.
 */
export function listen(app: Hono<any> & { sockets?: ListenerSockets }, host: string, port: number, createServer: typeof createAdaptorServer = createAdaptorServer): Promise<Listening> {
  const server = createServer({ fetch: app.fetch, hostname: host }) as Server;
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
