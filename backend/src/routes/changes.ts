import { z } from '@hono/zod-openapi';
import { eventFrame, visibilityFor } from '../events/delivery.js';
import { isObservablePath } from '../events/paths.js';
import type { Api } from '../http/env.js';
import { createRoute, jsonResponse, pageOf } from '../http/openapi.js';
import { pageQuery } from '../http/page-query.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { feedFloor, readChangePage } from '../store/change-feed.js';
import { changeOperations } from '../store/changes.js';

const Event = z
  .object({
    type: z.literal('event'),
    operation: z.enum(changeOperations),
    kind: z.string(),
    id: z.string(),
    parent: z.string().optional(),
    data: z.unknown().optional(),
    seq: z.number().int(),
  })
  .openapi('Event');

/** A page of the feed resumes after a seq. */
const seqPosition = z.number().int().min(0);

const listChanges = createRoute({
  method: 'get',
  path: '/changes',
  summary: 'The change feed after a seq, as the event socket would have delivered it',
  request: {
    query: pageQuery.extend({
      since: z.coerce.number().int().min(0).default(0),
      path: z.string().refine(isObservablePath, 'must be /files, /files/{key}, /history or /app/{appId}/projects|requests').optional(),
    }),
  },
  responses: {
    200: jsonResponse(pageOf(Event), 'Changes the caller may see, in seq order; a page may hold fewer than `limit` items and still have a cursor'),
  },
});

/**
 * `GET /changes?since=`: the same feed as the event socket's `since` replay, for clients that
 * were offline. A page scans at most `limit` feed entries (with `path`, that path's index, so
 * changes on other paths cost nothing) and returns the visible ones up to the page byte budget,
 * so neither its cost nor its size depends on how many changes the caller cannot see or how
 * large they are.
 */
export function registerChanges(api: Api, { store, cursors, events }: Services): void {
  api.openapi(listChanges, async (c) => {
    const { since, limit, cursor, path: asked } = c.req.valid('query');
    const list = cursors.open({ route: '/changes', user: c.get('caller').user }, seqPosition, { cursor, limit, filters: { path: asked } });
    const { path } = list.filters;
    const after = list.page.after ?? since;
    if (after > store.seq) throw resyncRequired(`This store has no change ${after}: it was reset or is another store.`, store.seq);
    const visible = visibilityFor(c.get('caller').user, events.canRead);
    const page = await readChangePage(store.storage, { ...list.page, after, path }, async (change) =>
      (await visible(change)) ? eventFrame(change) : undefined,
    );
    if ((await feedFloor(store.storage)) > after) throw resyncRequired(`The changes after ${after} were compacted away.`, store.seq);
    return c.json(list.body(page.items, page.last), 200);
  });
}

/** `seq` is where a client continues from once it has read the current state again. */
function resyncRequired(detail: string, seq: number): ApiError {
  return new ApiError('resync_required', `${detail} Read the current state again, then continue from seq ${seq}.`, { extra: { seq } });
}
