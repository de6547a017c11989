import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import type { Services } from '../http/services.js';
import { createRoute, jsonResponse } from '../http/openapi.js';

/** What this store can do; clients check it before using an optional feature. */
export const capabilities: string[] = ['files', 'media', 'revisions', 'trash', 'sharing', 'events', 'changes', 'history', 'app-data', 'proxy', 'backups', 'history-masking'];

const StoreInfo = z
  .object({
    mode: z.enum(['single-user', 'multi-user']),
    auth: z.object({ path: z.string(), type: z.string().optional() }),
    hosting: z.object({ host: z.string(), port: z.number(), prefix: z.string() }),
    capabilities: z.array(z.string()),
    /** Where the records live: LevelDB in the data dir, or a PostgreSQL database several instances may share. */
    storage: z.enum(['leveldb', 'postgres']),
    version: z.string(),
  })
  .openapi('StoreInfo');

const getStore = createRoute({
  method: 'get',
  path: '/store',
  summary: 'Store information; the only route that needs no credential',
  responses: { 200: jsonResponse(StoreInfo, 'Store information') },
});

export function registerStoreInfo(api: Api, { config, version, port, store }: Services): void {
  api.openapi(getStore, (c) =>
    c.json(
      {
        mode: config.mode === 'multi-user' ? ('multi-user' as const) : ('single-user' as const),
        auth:
          config.mode !== 'multi-user'
            ? { path: `${config.prefix}/sessions`, type: 'token' }
            : config.auth.type === 'oidc'
              ? { path: `${config.prefix}/auth/oidc/login`, type: 'oidc' }
              : { path: `${config.prefix}/sessions`, type: 'local' },
        hosting: { host: config.host, port: port(), prefix: config.prefix },
        capabilities,
        storage: store.storage.kind,
        version,
      },
      200,
    ),
  );
}
