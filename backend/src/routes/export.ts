import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import { createRoute, jsonResponse } from '../http/openapi.js';
import type { Services } from '../http/services.js';
import { historyHarStream } from '../projects/export/har.js';
import { exportPostman } from '../projects/export/postman.js';
import { exportStoreFormat } from '../projects/export/api-store.js';
import { fileKeySchema } from '../store/files.js';
import { historyAccessOf, historyScopes } from '../store/history.js';
import { MAX_SORTABLE_TIME } from '../store/time-keys.js';

/**
 * Exports: a project or a space in api-store's own format (lossless: it imports back as it was)
 * or as a Postman v2.1 collection, and history as a HAR 1.2 log (streamed a page at a time).
 */

const scopeId = z.string().min(1).max(256).regex(/^[^\x00-\x1f]*$/, 'must not contain control characters');

const attachment = (name: string, extension: string) => `attachment; filename="${name.replace(/[^\w.-]+/g, '_').slice(0, 100) || 'export'}.${extension}"`;

export function registerExport(api: Api, services: Services): void {
  const { store, version } = services;

  api.openapi(
    createRoute({
      method: 'get',
      path: '/files/{key}/export',
      summary: 'A project, or a space with everything in it, as a file',
      description: '`format=api-store` (default) imports back without loss; `format=postman-v2.1` is a Postman collection.',
      request: { params: z.object({ key: fileKeySchema }), query: z.object({ format: z.enum(['api-store', 'postman-v2.1']).default('api-store') }) },
      responses: { 200: jsonResponse(z.looseObject({}), 'The export'), 404: { description: 'No such file the caller can see' } },
    }),
    async (c) => {
      const { key } = c.req.valid('param');
      const user = c.get('caller').user;
      if (c.req.valid('query').format === 'postman-v2.1') {
        const collection = await exportPostman(store.storage, user, key);
        c.header('Content-Disposition', attachment(String((collection.info as { name: string }).name), 'postman_collection.json'));
        return c.json(collection, 200);
      }
      const exported = await exportStoreFormat(store.storage, user, key);
      c.header('Content-Disposition', attachment(exported.files[0].meta.info.name, 'api-store.json'));
      return c.json(exported, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/history/export',
      summary: 'History as a HAR 1.2 log, with the filters of `GET /history`',
      request: {
        query: z
          .object({
            format: z.literal('har').default('har'),
            type: z.enum(historyScopes).default('user'),
            id: scopeId.optional(),
            query: z.string().min(1).max(512).optional(),
            since: z.coerce.number().int().min(0).max(MAX_SORTABLE_TIME).optional(),
          })
          .refine((list) => list.type === 'user' || list.id !== undefined, { message: 'required unless type is user', path: ['id'] }),
      },
      responses: { 200: { description: 'A HAR 1.2 document (JSON), newest entry first' } },
    }),
    async (c) => {
      const { format: _format, ...list } = c.req.valid('query');
      const stream = historyHarStream(store.storage, historyAccessOf(store.storage, c.get('caller').user), list, { name: 'api-store', version });
      c.header('Content-Type', 'application/json');
      c.header('Content-Disposition', attachment('history', 'har'));
      return c.body(stream, 200);
    },
  );
}
