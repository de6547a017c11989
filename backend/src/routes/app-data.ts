import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Api, AppEnv } from '../http/env.js';
import { indexPosition, pageQuery } from '../http/page-query.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import {
  appCollections,
  createAppRecords,
  deleteAppRecords,
  listAppRecords,
  patchAppRecord,
  queryAppRecords,
  readAppRecord,
  readAppRecords,
  undeleteAppRecords,
  type AppCollection,
  type AppRecordInput,
  type AppScope,
} from '../store/app-data.js';
import { patchBodySchema, patchOperationSchema, patchRequestOf } from '../store/json-patch.js';
import { clientKeySchema } from '../store/files.js';
import { MAX_SORTABLE_TIME } from '../store/time-keys.js';
import { createRoute, jsonBody, jsonResponse, pageOf } from '../http/openapi.js';
import { prefersMinimal } from '../http/prefer.js';

/** An app's id: URL-safe, as it appears in the path. */
const appId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._~-]+$/, 'must be letters, digits, ".", "_", "~" or "-"');
/** The store's keys and clients' own; `query` would be shadowed by the query route. */
const recordKey = clientKeySchema.refine((key) => key !== 'query', 'is reserved (GET …/query lists matches)');
const MAX_BATCH = 1000;

const AppRecordInputSchema = z
  .looseObject({ key: recordKey.optional().openapi({ description: 'A client key, kept exactly; 409 `key_conflict` when a record here has or had it' }), info: z.looseObject({ name: z.string() }) })
  .openapi('AppRecordInput');
const AppRecordSchema = AppRecordInputSchema.extend({
  key: z.string(),
  created: z.number(),
  updated: z.number(),
  deleted: z.literal(true).optional(),
}).openapi('AppRecord');

const listSchema = pageOf(AppRecordSchema);
const keyConflict = { 409: { description: 'A client `key` is taken by a record here, deleted ones included, or given twice (`key_conflict`)' } };
const keyList = z.array(recordKey).min(1).max(MAX_BATCH);


/**
 * The routes of one collection (`/app/{appId}/projects` or `/app/{appId}/requests`). The records
 * are the caller's own: the scope comes from the caller and the path, never from the body.
 */
function registerCollection(api: Api, services: Services, collection: AppCollection): void {
  const { store, cursors, config } = services;
  const recordLimits = { maxBytes: config.limits.metadataBytes, maxDepth: config.limits.jsonDepth };
  const base = `/app/{appId}/${collection}`;
  const appParams = z.object({ appId });
  const recordParams = z.object({ appId, key: recordKey });
  const scopeOf = (c: Context<AppEnv>, id: string): AppScope => ({ user: c.get('caller').user, appId: id, collection });
  const cursorScope = (scope: AppScope, list = '') => ({ route: `/app/${scope.appId}/${collection}${list}`, user: scope.user });
  const tag = [`App ${collection}`];

  api.openapi(
    createRoute({
      method: 'get',
      path: base,
      tags: tag,
      summary: 'One page of records: live ones in creation order, or with `since` every change at or after it, deletions included',
      request: { params: appParams, query: pageQuery.extend({ since: z.coerce.number().int().min(0).max(MAX_SORTABLE_TIME).optional() }) },
      responses: { 200: jsonResponse(listSchema, 'One page of records') },
    }),
    async (c) => {
      const { cursor, limit, since } = c.req.valid('query');
      const scope = scopeOf(c, c.req.valid('param').appId);
      const list = cursors.open(cursorScope(scope), indexPosition, { cursor, limit, filters: { since } });
      const page = await listAppRecords(store.storage, scope, list.filters.since, list.page);
      return c.json(list.body(page.items, page.last), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: base,
      tags: tag,
      summary: 'Create a record',
      request: { params: appParams, ...jsonBody(AppRecordInputSchema) },
      responses: { 201: jsonResponse(AppRecordSchema, 'The created record'), ...keyConflict },
    }),
    async (c) => {
      const { appId: id } = c.req.valid('param');
      const [record] = await createAppRecords(store, scopeOf(c, id), [c.req.valid('json') as AppRecordInput]);
      c.header('Location', `${config.prefix}/app/${id}/${collection}/${record.key}`);
      return c.json(record, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: `${base}/batch/create`,
      tags: tag,
      summary: `Create up to ${MAX_BATCH} records in one atomic batch`,
      request: { params: appParams, ...jsonBody(z.array(AppRecordInputSchema).min(1).max(MAX_BATCH)) },
      responses: { 200: jsonResponse(z.object({ items: z.array(AppRecordSchema) }), 'The created records, in order'), ...keyConflict },
    }),
    async (c) => {
      const records = await createAppRecords(store, scopeOf(c, c.req.valid('param').appId), c.req.valid('json') as AppRecordInput[]);
      return c.json({ items: records }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: `${base}/batch/read`,
      tags: tag,
      summary: 'Read records by key',
      request: { params: appParams, ...jsonBody(keyList) },
      responses: { 200: jsonResponse(z.object({ items: z.array(AppRecordSchema.nullable()) }), 'The records in the order asked, null where missing or deleted') },
    }),
    async (c) => c.json({ items: await readAppRecords(store.storage, scopeOf(c, c.req.valid('param').appId), c.req.valid('json')) }, 200),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: `${base}/batch/delete`,
      tags: tag,
      summary: 'Delete records (they stay as tombstones for `since`), all or none',
      request: { params: appParams, ...jsonBody(keyList) },
      responses: { 204: { description: 'Deleted' }, 404: { description: 'A key names no record' } },
    }),
    async (c) => {
      await deleteAppRecords(store, scopeOf(c, c.req.valid('param').appId), c.req.valid('json'));
      return c.body(null, 204);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: `${base}/batch/undelete`,
      tags: tag,
      summary: 'Restore deleted records, all or none',
      request: { params: appParams, ...jsonBody(keyList) },
      responses: { 200: jsonResponse(z.object({ items: z.array(AppRecordSchema) }), 'The restored records, in order'), 404: { description: 'A key names no record' } },
    }),
    async (c) => {
      const records = await undeleteAppRecords(store, scopeOf(c, c.req.valid('param').appId), c.req.valid('json'));
      return c.json({ items: records }, 200);
    },
  );

  // Declared before `/{key}` so that `query` is not taken for a key.
  api.openapi(
    createRoute({
      method: 'get',
      path: `${base}/query`,
      tags: tag,
      summary: 'Live records whose name, description or request URL/method contain the text',
      description: 'A page reads a bounded part of the collection and may come back short with a cursor.',
      request: {
        params: appParams,
        query: pageQuery
          .extend({ query: z.string().min(1).max(512).optional() })
          .refine((asked) => asked.query !== undefined || asked.cursor !== undefined, { message: 'required unless cursor is given', path: ['query'] }),
      },
      responses: { 200: jsonResponse(listSchema, 'One page of matching records') },
    }),
    async (c) => {
      const { cursor, limit, query } = c.req.valid('query');
      const scope = scopeOf(c, c.req.valid('param').appId);
      const list = cursors.open(cursorScope(scope, '/query'), indexPosition, { cursor, limit, filters: { query } });
      // A query cursor always holds its text: the first page requires one.
      const text = list.filters.query;
      if (text === undefined) throw new ApiError('invalid_cursor', 'The cursor is not one of this query.');
      const page = await queryAppRecords(store.storage, scope, text, list.page);
      return c.json(list.body(page.items, page.last), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: `${base}/{key}`,
      tags: tag,
      summary: 'One record',
      request: { params: recordParams },
      responses: { 200: jsonResponse(AppRecordSchema, 'The record'), 404: { description: 'No such record' } },
    }),
    async (c) => {
      const { appId: id, key } = c.req.valid('param');
      return c.json(await readAppRecord(store.storage, scopeOf(c, id), key), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'patch',
      path: `${base}/{key}`,
      tags: tag,
      summary: 'Apply an RFC 6902 patch; the answer carries `revert`, the patch that undoes it',
      description: 'With `Prefer: return=minimal` (`Preference-Applied`) the answer holds only `updated` and `revert`.',
      request: { params: recordParams, ...jsonBody(patchBodySchema) },
      responses: {
        200: jsonResponse(
          z.union([AppRecordSchema.extend({ revert: z.array(patchOperationSchema) }), z.object({ updated: z.number(), revert: z.array(patchOperationSchema) })]),
          'The patched record and its revert patch, or with `return=minimal` its `updated` and the revert patch',
        ),
        404: { description: 'No such record' },
      },
    }),
    async (c) => {
      const { appId: id, key } = c.req.valid('param');
      const { record, revert } = await patchAppRecord(store, scopeOf(c, id), key, patchRequestOf(c.req.valid('json')), recordLimits);
      return c.json(prefersMinimal(c) ? { updated: record.updated, revert } : { ...record, revert }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: `${base}/{key}`,
      tags: tag,
      summary: 'Delete a record (it stays as a tombstone for `since`)',
      request: { params: recordParams },
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No such record' } },
    }),
    async (c) => {
      const { appId: id, key } = c.req.valid('param');
      await readAppRecord(store.storage, scopeOf(c, id), key);
      await deleteAppRecords(store, scopeOf(c, id), [key]);
      return c.body(null, 204);
    },
  );
}

/** `/app/{appId}/projects` and `/app/{appId}/requests`: the same routes for both collections. */
export function registerAppData(api: Api, services: Services): void {
  for (const collection of appCollections) registerCollection(api, services, collection);
}
