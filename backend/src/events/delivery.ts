import type { Change } from '../store/changes.js';

/** Whether a user may read a file now (the nearest grant on it or its ancestor spaces). */
export type CanRead = (user: string, fileKey: string) => Promise<boolean>;

/** The wire form of a change, the same on the socket and in `GET /v1/changes`. */
export interface EventFrame {
  type: 'event';
  operation: Change['operation'];
  kind: string;
  id: string;
  parent?: string;
  data?: unknown;
  seq: number;
}

export function eventFrame(change: Change): EventFrame {
  const { operation, kind, id, parent, data, seq } = change;
  return { type: 'event', operation, kind, id, ...(parent !== undefined && { parent }), ...(data !== undefined && { data }), seq };
}

/**
 * Whether `user` may see a change now: a user's own records by that user and by the readers of
 * the files they are attached to; a file's changes by whoever can read the file at this moment,
 * plus the users the change names as having just lost access (so that they learn about it).
 * Reading the file as it is now is safe for past changes: a key names one file for good (purged
 * keys are retired, see file-records.ts), so the record found is the one the change was about.
 */
export function visibleTo(user: string, change: Change, canRead: CanRead): Promise<boolean> | boolean {
  const visibility = change.visibility;
  if ('user' in visibility) return visibility.user === user || (visibility.files !== undefined && readsAny(user, visibility.files, canRead));
  if (visibility.revoked?.includes(user)) return true;
  return canRead(user, visibility.file);
}

async function readsAny(user: string, fileKeys: string[], canRead: CanRead): Promise<boolean> {
  for (const fileKey of fileKeys) if (await canRead(user, fileKey)) return true;
  return false;
}

/**
 * A visibility check for one user over a run of changes (a replay page, a page of the feed):
 * each file's access is looked up once per run.
 */
export function visibilityFor(user: string, canRead: CanRead): (change: Change) => Promise<boolean> | boolean {
  const files = new Map<string, Promise<boolean>>();
  const cachedCanRead: CanRead = (reader, fileKey) => {
    let access = files.get(fileKey);
    if (!access) files.set(fileKey, (access = canRead(reader, fileKey)));
    return access;
  };
  return (change) => visibleTo(user, change, cachedCanRead);
}
