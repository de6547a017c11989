import type { Server } from 'node:http';
import { createNodeWebSocket, type NodeWebSocket } from '@hono/node-ws';
import type { Hono } from 'hono';
import { WebSocket } from 'ws';
import type { Authenticator } from '../auth/caller.js';

/** The WebSocket side of one listener (loopback or LAN): its upgrades and its open sockets. */
export interface ListenerSockets {
  upgradeWebSocket: NodeWebSocket['upgradeWebSocket'];
  /** The listener's authenticator: an open socket's credential is checked again at every heartbeat. */
  authenticator: Authenticator;
  /** Serves this listener's WebSocket upgrades on its HTTP server (after the app's auth, Host and Origin checks). */
  inject(server: Server): void;
  /** Closes this listener's sockets with 1001 (shutdown, LAN sharing turned off); others are untouched. */
  close(reason?: string): Promise<void>;
}

/** How long a closing socket may take to answer the close frame before it is cut. */
const closeGraceMs = 2000;

export function createListenerSockets(app: Hono<any>, maxMessageBytes: number, authenticator: Authenticator): ListenerSockets {
  const node = createNodeWebSocket({ app });
  // node-ws builds its server with ws's default 100 MiB message limit; commands are tiny.
  node.wss.options.maxPayload = maxMessageBytes;
  return {
    upgradeWebSocket: node.upgradeWebSocket,
    authenticator,
    inject: (server) => node.injectWebSocket(server),
    close: (reason = 'This listener is closing (shutdown or sharing turned off).') =>
      Promise.all([...node.wss.clients].map((socket) => closeSocket(socket, reason))).then(() => {}),
  };
}

function closeSocket(socket: WebSocket, reason: string): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((done) => {
    const cut = setTimeout(() => socket.terminate(), closeGraceMs).unref();
    socket.once('close', () => {
      clearTimeout(cut);
      done();
    });
    socket.close(1001, reason);
  });
}
