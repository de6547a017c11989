import { z } from '@hono/zod-openapi';
import { eventFrame, visibilityFor } from '../events/delivery.js';
import { isObservablePath } from '../events/paths.js';
import type { Api } from '../http/env.js';
import { createRoute, jsonResponse, pageOf } from '../http/openapi.js';
import { pageQuery } from '../http/page-query.js';
import { ApiError } from '../http/problem.js';
import type { Services } from '../http/services.js';
import { feedFloor, streamChanges } from '../store/change-feed.js';
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

/** A page ends once its events reach this size (changes carry whole records); its cursor leads on. */
const maxPageBytes = 4 * 1024 * 1024;

/**
 * `GET /changes?since=`: the same feed as the event socket's `since` replay, for clients that
 * were offline. A page scans at most `limit` feed entries, read one at a time, and returns the
 * visible ones up to `maxPageBytes`, so neither its cost nor its size depends on how many
 * changes the caller cannot see or how large they are.
 */
export function registerChanges(api: Api, { store, cursors, events }: Services): void {
  api.openapi(listChanges, async (c) => {
    const { since, limit, cursor, path } = c.req.valid('query');
    const after = cursor === undefined ? since : resumePoint(cursors.decode<{ after?: unknown }>(cursor));
    if (after > store.seq) throw resyncRequired(`This store has no change ${after}: it was reset or is another store.`, store.seq);
    const visible = visibilityFor(c.get('caller').user, events.canRead);
    const items = [];
    let bytes = 0;
    let scanned = 0;
    let last = after;
    let more = false;
    for await (const [, change] of streamChanges(store.storage, after, { limit: limit + 1 })) {
      if (scanned === limit || bytes >= maxPageBytes) {
        more = true;
        break;
      }
      scanned += 1;
      last = change.seq;
      if ((path === undefined || change.paths.includes(path)) && (await visible(change))) {
        const frame = eventFrame(change);
        bytes += Buffer.byteLength(JSON.stringify(frame));
        items.push(frame);
      }
    }
    if ((await feedFloor(store.storage)) > after) throw resyncRequired(`The changes after ${after} were compacted away.`, store.seq);
    return c.json({ items, ...(more && { cursor: cursors.encode({ after: last }) }) }, 200);
  });
}

function resumePoint(position: { after?: unknown }): number {
  if (!Number.isSafeInteger(position.after)) throw new ApiError('invalid_cursor', 'The cursor is not one this store issued.');
  return position.after as number;
}

/** `seq` is where a client continues from once it has read the current state again. */
function resyncRequired(detail: string, seq: number): ApiError {
  return new ApiError('resync_required', `${detail} Read the current state again, then continue from seq ${seq}.`, { extra: { seq } });
}
