import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import { indexPosition, pageQuery } from '../http/page-query.js';
import type { Services } from '../http/services.js';
import { fileKeySchema } from '../store/files.js';
import { deleteFromTrash, emptyTrash, listTrash, restoreFile } from '../store/trash.js';
import { FileSchema } from './files.js';
import { createRoute, jsonResponse, pageOf } from '../http/openapi.js';

/** `/trash`: what the caller moved to trash and still owns, addressed by the file's own key. */

const keyParam = { params: z.object({ key: fileKeySchema }) };
const notInTrash = { 404: { description: 'No such file in trash that the caller can see' }, 403: { description: 'Not an owner of the file' } };

export function registerTrash(api: Api, services: Services): void {
  const { store, cursors, config } = services;

  api.openapi(
    createRoute({
      method: 'get',
      path: '/trash',
      summary: 'One page of the caller’s trash, oldest first',
      request: { query: pageQuery },
      responses: { 200: jsonResponse(pageOf(FileSchema), 'Trashed files (roots of trashed subtrees)') },
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid('query');
      const user = c.get('caller').user;
      const list = cursors.open({ route: '/trash', user }, indexPosition, { cursor, limit, filters: {} });
      const result = await listTrash(store.storage, user, list.page);
      return c.json(list.body(result.items, result.last), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'put',
      path: '/trash/{key}/restore',
      summary: 'Restore a file and the part of its subtree trashed with it',
      request: keyParam,
      responses: { 200: jsonResponse(FileSchema, 'The restored file'), 409: { description: 'Its space is gone or in trash (`parent_gone`)' }, ...notInTrash },
    }),
    async (c) => {
      const record = await restoreFile(store, c.get('caller').user, c.req.valid('param').key);
      c.header('Content-Location', `${config.prefix}/files/${record.key}`);
      return c.json(record, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/trash/{key}',
      summary: 'Delete a trashed file and its subtree for good: contents, revisions and grants too',
      request: keyParam,
      responses: { 204: { description: 'Deleted' }, ...notInTrash },
    }),
    async (c) => {
      await deleteFromTrash(store, c.get('caller').user, c.req.valid('param').key);
      return c.body(null, 204);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/trash',
      summary: 'Empty the caller’s trash',
      responses: { 204: { description: 'Emptied' } },
    }),
    async (c) => {
      await emptyTrash(store, c.get('caller').user);
      return c.body(null, 204);
    },
  );
}
