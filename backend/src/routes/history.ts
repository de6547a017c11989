import { z } from '@hono/zod-openapi';
import type { Api } from '../http/env.js';
import { indexPosition, pageQuery } from '../http/page-query.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import {
  HISTORY_KIND,
  createHistory,
  deleteHistory,
  historyAccessOf,
  historyScopes,
  listHistory,
  readHistory,
  type HistoryInput,
  type HistoryListQuery,
} from '../store/history.js';
import { MAX_SORTABLE_TIME } from '../store/time-keys.js';
import { createRoute, jsonBody, jsonResponse, pageOf } from '../http/openapi.js';

/** A space, project, request or app id: index keys use control characters as separators. */
const scopeId = z.string().min(1).max(256).regex(/^[^\x00-\x1f]*$/, 'must not contain control characters');
const historyKey = z.string().min(1).max(64);
const MAX_BATCH = 1000;

/** Core writes an empty string for an id it does not have: the same as leaving it out. */
const optionalScopeId = z.union([scopeId, z.literal('')]).optional();

/**
 * Core's `IHttpHistory` with its `IRequestLog`: the sent request, and a response (`timings`
 * optional, as some HTTP clients cannot give them) or an error response (`status` 0 and `error`)
 * for a request that failed. A failed request is history too.
 */
export const HistoryInputSchema = z
  .looseObject({
    kind: z.literal(HISTORY_KIND).optional(),
    app: optionalScopeId,
    log: z.looseObject({
      request: z.looseObject({
        url: z.string().min(1),
        method: z.string().min(1).max(64).optional(),
        headers: z.string().optional(),
        payload: z.unknown().optional(),
        startTime: z.number(),
      }),
      response: z
        .looseObject({
          status: z.number().int(),
          statusText: z.string().optional(),
          headers: z.string().optional(),
          payload: z.unknown().optional(),
          timings: z.looseObject({}).optional(),
          loadingTime: z.number().optional(),
          error: z.union([z.string(), z.looseObject({ message: z.string() })]).optional(),
        })
        .optional(),
    }),
    created: z.number().int().min(0).max(MAX_SORTABLE_TIME).optional(),
    space: optionalScopeId,
    project: optionalScopeId,
    request: optionalScopeId,
  })
  .openapi('HistoryInput');

const HistoryEntrySchema = HistoryInputSchema.extend({
  kind: z.literal(HISTORY_KIND),
  key: z.string(),
  user: z.string(),
  created: z.number(),
}).openapi('HistoryEntry');

/** `type` is `user` unless stated; with a cursor, the filters not stated are the cursor's. */
const listQuery = pageQuery
  .extend({
    type: z.enum(historyScopes).optional(),
    id: scopeId.optional(),
    query: z.string().min(1).max(512).optional(),
    since: z.coerce.number().int().min(0).max(MAX_SORTABLE_TIME).optional(),
  })
  .refine((list) => (list.type ?? 'user') === 'user' || list.id !== undefined || list.cursor !== undefined, {
    message: 'required unless type is user',
    path: ['id'],
  });

const keyParam = { params: z.object({ key: historyKey }) };
const attachmentErrors = { 404: { description: 'The `space` or `project` is a file the caller cannot read (`file_not_found`)' } };
const keyList = z.array(historyKey).min(1).max(MAX_BATCH);

export function registerHistory(api: Api, services: Services): void {
  const { store, cursors, config } = services;
  const accessOf = (user: string) => historyAccessOf(store.storage, user);

  api.openapi(
    createRoute({
      method: 'post',
      path: '/history',
      summary: 'Log one request',
      request: jsonBody(HistoryInputSchema),
      responses: { 201: jsonResponse(HistoryEntrySchema, 'The stored entry'), ...attachmentErrors },
    }),
    async (c) => {
      const [entry] = await createHistory(store, accessOf(c.get('caller').user), [c.req.valid('json') as HistoryInput]);
      c.header('Location', `${config.prefix}/history/${entry.key}`);
      return c.json(entry, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/history/batch/create',
      summary: `Log up to ${MAX_BATCH} requests in one atomic batch`,
      request: jsonBody(z.array(HistoryInputSchema).min(1).max(MAX_BATCH)),
      responses: { 200: jsonResponse(z.object({ items: z.array(z.string()) }), 'The keys of the stored entries, in order'), ...attachmentErrors },
    }),
    async (c) => {
      const entries = await createHistory(store, accessOf(c.get('caller').user), c.req.valid('json') as HistoryInput[]);
      return c.json({ items: entries.map((entry) => entry.key) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/history/batch/delete',
      summary: 'Remove entries, all or none',
      request: jsonBody(keyList),
      responses: { 204: { description: 'Removed' } },
    }),
    async (c) => {
      await deleteHistory(store, accessOf(c.get('caller').user), c.req.valid('json'));
      return c.body(null, 204);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/history',
      summary: 'One page of history, newest first',
      description:
        '`type=user` lists the caller’s entries, `app` the caller’s entries of one app; `space`, `project` and `request` list ' +
        'the entries attached to `id` that the caller may see. `query` finds the entries holding each of its words: in the URL and ' +
        'method as the start of a word, in the headers and text bodies as a whole word. In space, project and request lists, ' +
        'a page reads a bounded part of the index for entries the caller may not see and may come back short with a cursor.',
      request: { query: listQuery },
      responses: { 200: jsonResponse(pageOf(HistoryEntrySchema), 'One page of entries') },
    }),
    async (c) => {
      const caller = c.get('caller');
      const { cursor, limit, ...asked } = c.req.valid('query');
      const filters = { ...asked, type: asked.type ?? (cursor === undefined ? 'user' : undefined) };
      const list = cursors.open({ route: '/history', user: caller.user }, indexPosition, { cursor, limit, filters });
      const query = list.filters as HistoryListQuery;
      if (query.type === 'user' && query.id !== undefined && query.id !== caller.user) {
        throw new ApiError('forbidden_role', 'A user’s history is listed by that user only.');
      }
      const page = await listHistory(store.storage, accessOf(caller.user), query, list.page);
      return c.json(list.body(page.items, page.last), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/history/{key}',
      summary: 'One entry',
      request: keyParam,
      responses: { 200: jsonResponse(HistoryEntrySchema, 'The entry'), 404: { description: 'No such entry the caller can see' } },
    }),
    async (c) => c.json(await readHistory(store.storage, accessOf(c.get('caller').user), c.req.valid('param').key), 200),
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/history/{key}',
      summary: 'Remove one entry',
      request: keyParam,
      responses: { 204: { description: 'Removed' }, 404: { description: 'No such entry the caller can see' } },
    }),
    async (c) => {
      await deleteHistory(store, accessOf(c.get('caller').user), [c.req.valid('param').key]);
      return c.body(null, 204);
    },
  );
}
