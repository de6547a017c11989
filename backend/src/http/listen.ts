import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';

export interface Listening {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish, then closes idle keep-alive connections. */
  close(): Promise<void>;
}

/**
 * Serves an app on exactly the given host (never all interfaces by accident) and resolves with
 * the real port, or rejects with the listen error (EADDRINUSE, EACCES).
 */
export function listen(app: Hono<any>, host: string, port: number, createServer: typeof createAdaptorServer = createAdaptorServer, serverOptions: object = {}): Promise<Listening> {
  const server = createServer({ fetch: app.fetch, hostname: host, serverOptions }) as Server;
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
          }),
      });
    });
  });
}
