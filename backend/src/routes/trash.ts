import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import { indexPosition, pageQuery } from '../http/page-query.js';
import type { Services } from '../http/services.js';
import { fileKeySchema } from '../store/files.js';
import { deleteFromTrash, emptyTrash, listTrash, restoreFile, restoreFiles } from '../store/trash.js';
import { FileSchema } from './files.js';
import { createRoute, jsonBody, jsonResponse, pageOf } from '../http/openapi.js';

/** `/trash`: what the caller moved to trash and still owns, addressed by the file's own key. */

const keyParam = { params: z.object({ key: fileKeySchema }) };
const MAX_BATCH = 500;
const keyList = z.array(fileKeySchema).min(1).max(MAX_BATCH);
const TrashedFileSchema = FileSchema.extend({
  trashed: z.object({ user: z.string(), time: z.number() }).openapi({ description: 'Who moved the file to trash, and when (ms)' }),
}).openapi('TrashedFile');
const notInTrash = { 404: { description: 'No such file in trash that the caller can see' }, 403: { description: 'Not an owner of the file' } };

export function registerTrash(api: Api, services: Services): void {
  const { store, cursors, config } = services;

  api.openapi(
    createRoute({
      method: 'get',
      path: '/trash',
      summary: 'One page of the caller’s trash, oldest first',
      request: { query: pageQuery },
      responses: { 200: jsonResponse(pageOf(TrashedFileSchema), 'Trashed files (roots of trashed subtrees), each with when and by whom it was deleted') },
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
      method: 'post',
      path: '/trash/batch/restore',
      summary: `Restore up to ${MAX_BATCH} trashed files in one write, all or none`,
      description: 'In the order given: a file may follow the space it was in. Each must be the caller’s to restore, as with `PUT /trash/{key}/restore`.',
      request: jsonBody(keyList),
      responses: { 200: jsonResponse(z.object({ items: z.array(FileSchema) }), 'The restored files, in order'), 409: { description: 'A file’s space is gone or in trash (`parent_gone`)' }, ...notInTrash },
    }),
    async (c) => c.json({ items: await restoreFiles(store, c.get('caller').user, c.req.valid('json')) }, 200),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/trash/batch/delete',
      summary: `Delete up to ${MAX_BATCH} trashed files and their subtrees for good, in one write, all or none`,
      request: jsonBody(keyList),
      responses: { 204: { description: 'Deleted' }, ...notInTrash },
    }),
    async (c) => {
      await deleteFromTrash(store, c.get('caller').user, c.req.valid('json'));
      return c.body(null, 204);
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
      await deleteFromTrash(store, c.get('caller').user, [c.req.valid('param').key]);
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
