import type { Api } from '../http/env.js';
import { indexPosition, pageQuery } from '../http/page-query.js';
import type { Services } from '../http/services.js';
import { listShared } from '../store/sharing.js';
import { FileSchema } from './files.js';
import { createRoute, jsonResponse, pageOf } from '../http/openapi.js';

/** `/shared`: files other users shared with the caller by name (empty for the single local owner). */
export function registerShared(api: Api, services: Services): void {
  const { store, cursors } = services;
  api.openapi(
    createRoute({
      method: 'get',
      path: '/shared',
      summary: 'One page of the files shared with the caller',
      request: { query: pageQuery },
      responses: { 200: jsonResponse(pageOf(FileSchema), 'Shared files') },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid('query');
      const user = c.get('caller').user;
      const list = cursors.open({ route: '/shared', user }, indexPosition, { cursor, limit, filters: {} });
      const result = await listShared(store.storage, user, list.page);
      return c.json(list.body(result.items, result.last), 200);
    },
  );
}
