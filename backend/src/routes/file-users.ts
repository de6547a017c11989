import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import type { Services } from '../http/services.js';
import { roles } from '../store/access.js';
import { fileKeySchema } from '../store/files.js';
import { changeGrants, grantOperationsSchema, listGrants } from '../store/sharing.js';
import { createRoute, jsonBody, jsonResponse } from '../http/openapi.js';

/** `/files/{key}/users`: who a file is shared with, and sharing it (owners only). */

const GrantSchema = z
  .object({ type: z.enum(['user', 'anyone']), id: z.string().optional(), role: z.enum(roles), grantedBy: z.string(), time: z.number() })
  .openapi('Grant');
const grants = jsonResponse(z.object({ items: z.array(GrantSchema) }), 'The grants set on this file (not the inherited ones)');
const keyParam = z.object({ key: fileKeySchema });
const notVisible = { 404: { description: 'No such file the caller can see' } };

export function registerFileUsers(api: Api, services: Services): void {
  const { store } = services;

  api.openapi(
    createRoute({ method: 'get', path: '/files/{key}/users', summary: 'The file’s explicit grants', request: { params: keyParam }, responses: { 200: grants, ...notVisible } }),
    async (c) => c.json({ items: await listGrants(store.storage, c.get('caller').user, c.req.valid('param').key) }, 200),
  );

  api.openapi(
    createRoute({
      method: 'patch',
      path: '/files/{key}/users',
      summary: 'Grant or revoke roles: `[{op: "add", type: "user"|"anyone", id?, value: role}, {op: "remove", type, id?}]`',
      description: 'Owners only. A grant must name an existing user (404 `user_not_found`). All operations are applied in one write, all or none.',
      request: { params: keyParam, ...jsonBody(grantOperationsSchema) },
      responses: { 200: grants, 403: { description: 'Not an owner' }, 404: { description: 'No such file the caller can see, or a granted user does not exist (`user_not_found`)' } },
    }),
    async (c) => c.json({ items: await changeGrants(store, c.get('caller').user, c.req.valid('param').key, c.req.valid('json')) }, 200),
  );
}
