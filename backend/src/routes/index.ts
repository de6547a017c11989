import type { ListenerSockets } from '../events/sockets.js';
import type { Api } from '../http/env.js';
import { routesOnFirstUse } from '../http/lazy-routes.js';
import type { Services } from '../http/services.js';
import { registerAppData } from './app-data.js';
import { registerChanges } from './changes.js';
import { registerEvents } from './events.js';
import { registerFiles } from './files.js';
import { registerHistory } from './history.js';
import { registerHistoryMasking } from './history-masking.js';
import { registerShared } from './shared.js';
import { registerStoreInfo } from './store-info.js';

/**
 * Every REST resource, one file each; add a new resource's `register…` call here. The resources
 * few sessions use (grants, trash, imports and exports, the proxy, and what only a team or an
 * admin calls) are registered on their first request (routes/on-first-use.ts): here, their routes
 * are declared in their place in the route order (`newApi` makes their router). Returns their loader.
 */
export function registerRoutes(api: Api, services: Services, sockets: ListenerSockets, newApi: () => Api): () => Promise<Api> {
  const onFirstUse = routesOnFirstUse(api, newApi, async (routesApi) => (await import('./on-first-use.js')).registerOnFirstUse(routesApi, services));
  registerStoreInfo(api, services);
  registerHistoryMasking(api, services);
  registerEvents(api, services, sockets);
  registerChanges(api, services);
  registerFiles(api, services);
  onFirstUse.declare(['GET /files/{key}/users', 'PATCH /files/{key}/users']);
  onFirstUse.declare(['GET /trash', 'PUT /trash/{key}/restore', 'POST /trash/batch/restore', 'POST /trash/batch/delete', 'DELETE /trash/{key}', 'DELETE /trash']);
  registerShared(api, services);
  // Before history: `/history/export` must not be read as the entry `export`.
  onFirstUse.declare(['GET /files/{key}/export', 'GET /history/export']);
  onFirstUse.declare(['POST /import']);
  registerHistory(api, services);
  registerAppData(api, services);
  onFirstUse.declare(['POST /sessions', 'POST /sessions/renew', 'DELETE /sessions', 'GET /sessions', 'DELETE /sessions/{id}']);
  onFirstUse.declare(['GET /users/me', 'GET /users', 'GET /users/{key}']);
  onFirstUse.declare(['POST /auth/invites', 'POST /auth/invites/redeem', 'GET /auth/oidc/login', 'GET /auth/oidc/callback']);
  onFirstUse.declare(['POST /proxy']);
  onFirstUse.declare(['POST /backups', 'GET /backups']);
  onFirstUse.declare(['POST /secrets/rotation', 'GET /secrets/rotation']);
  return onFirstUse.load;
}
