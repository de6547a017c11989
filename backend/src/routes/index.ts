import type { ListenerSockets } from '../events/sockets.js';
import type { Api } from '../http/env.js';
import type { Services } from '../http/services.js';
import { registerAppData } from './app-data.js';
import { registerAuth } from './auth.js';
import { registerBackups } from './backups.js';
import { registerChanges } from './changes.js';
import { registerEvents } from './events.js';
import { registerExport } from './export.js';
import { registerFileUsers } from './file-users.js';
import { registerFiles } from './files.js';
import { registerHistory } from './history.js';
import { registerHistoryMasking } from './history-masking.js';
import { registerImport } from './import.js';
import { registerProxy } from './proxy.js';
import { registerSecrets } from './secrets.js';
import { registerSessions } from './sessions.js';
import { registerShared } from './shared.js';
import { registerStoreInfo } from './store-info.js';
import { registerTrash } from './trash.js';
import { registerUsers } from './users.js';

/** Every REST resource, one file each; add a new resource's `register…` call here. */
export function registerRoutes(api: Api, services: Services, sockets: ListenerSockets): void {
  registerStoreInfo(api, services);
  registerHistoryMasking(api, services);
  registerEvents(api, services, sockets);
  registerChanges(api, services);
  registerFiles(api, services);
  registerFileUsers(api, services);
  registerTrash(api, services);
  registerShared(api, services);
  // Before history: `/history/export` must not be read as the entry `export`.
  registerExport(api, services);
  registerImport(api, services);
  registerHistory(api, services);
  registerAppData(api, services);
  registerSessions(api, services);
  registerUsers(api, services);
  registerAuth(api, services);
  registerProxy(api, services);
  registerBackups(api, services);
  registerSecrets(api, services);
}
