import type { WebSocket } from 'ws';
import { credentialOf } from '../auth/authenticate.js';
import type { Connection } from '../events/connection.js';
import type { ListenerSockets } from '../events/sockets.js';
import type { Api } from '../http/env.js';
import { createRoute } from '../http/openapi.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';

/**
 * `GET /events`: the realtime event socket. The shell has already checked Host, Origin and the
 * credential (`?token=` is accepted here only) before the upgrade, so a refused upgrade is an
 * ordinary HTTP error and never touches another socket.
 */
export function registerEvents(api: Api, { events }: Services, sockets: ListenerSockets): void {
  api.get(
    '/events',
    sockets.upgradeWebSocket((c) => {
      const { user } = c.get('caller');
      const credential = credentialOf(c.req.header('Authorization'), c.req.query('token'), true) ?? '';
      // A session revoked or expired after the upgrade ends the socket at the next heartbeat.
      const stillSignedIn = async () => (await sockets.authenticator(credential))?.user === user;
      let connection: Connection | undefined;
      return {
        onOpen: (_event, socket) => {
          connection = events.connect(socket.raw as WebSocket, user, stillSignedIn);
        },
        onMessage: (event) => connection?.receive(event.data),
        onClose: () => connection?.closed(),
      };
    }),
    () => {
      throw new ApiError('upgrade_required', 'GET /events is a WebSocket: open it with a WebSocket client.', { headers: { Upgrade: 'websocket' } });
    },
  );
  api.openAPIRegistry.registerPath(
    createRoute({
      method: 'get',
      path: '/events',
      summary: 'Realtime events (WebSocket); the credential may be passed as ?token=',
      security: [{ bearer: [] }, { queryToken: [] }],
      responses: {
        101: { description: 'Switching to the WebSocket protocol' },
        426: { description: 'Not a WebSocket upgrade (`upgrade_required`)' },
      },
    }),
  );
}
