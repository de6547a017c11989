import type { Api } from '../http/env.js';
import type { Services } from '../http/services.js';
import { registerAuth } from './auth.js';
import { registerBackups } from './backups.js';
import { registerExport } from './export.js';
import { registerFileUsers } from './file-users.js';
import { registerImport } from './import.js';
import { registerProxy } from './proxy.js';
import { registerSecrets } from './secrets.js';
import { registerSessions } from './sessions.js';
import { registerTrash } from './trash.js';
import { registerUsers } from './users.js';

/**
 * The resources few sessions use, loaded together (one module, whose code in the bundle runs only
 * then) on the first request to one of them: routes/index.ts declares their routes.
 */
export function registerOnFirstUse(api: Api, services: Services): void {
  registerFileUsers(api, services);
  registerTrash(api, services);
  registerExport(api, services);
  registerImport(api, services);
  registerSessions(api, services);
  registerUsers(api, services);
  registerAuth(api, services);
  registerProxy(api, services);
  registerBackups(api, services);
  registerSecrets(api, services);
}
