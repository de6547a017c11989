import { randomBytes } from 'node:crypto';
import { readPage, type Page, type PageRequest } from './paging.js';
import type { Mutation, Store } from './store.js';
import type { Storage } from './storage.js';

/** A login. The token carries its id; deleting the record revokes the token at once. */
export interface SessionRecord {
  id: string;
  user: string;
  created: number;
  expires: number;
}

export const sessionSections = { sessions: 'sessions', byUser: 'sessions-by-user', byExpiry: 'sessions-by-expiry' } as const;
const sessions = sessionSections.sessions;
/** `<user>:<id>` → id, for the admin's list of a user's sessions */
const byUser = sessionSections.byUser;
/** `<expires, fixed width>:<id>` → id, so pruning reads only expired entries */
const byExpiry = sessionSections.byExpiry;

export const expiryKey = (session: SessionRecord) => `${session.expires.toString().padStart(15, '0')}:${session.id}`;

function addSession(m: Mutation, user: string, lifetimeMs: number): SessionRecord {
  const session: SessionRecord = { id: randomBytes(16).toString('base64url'), user, created: m.now, expires: m.now + lifetimeMs };
  m.put(sessions, session.id, session);
  m.put(byUser, `${user}:${session.id}`, session.id);
  m.put(byExpiry, expiryKey(session), session.id);
  return session;
}

function removeSession(m: Mutation, session: SessionRecord): void {
  m.del(sessions, session.id);
  m.del(byUser, `${session.user}:${session.id}`);
  m.del(byExpiry, expiryKey(session));
}

export function getSession(storage: Storage, id: string): Promise<SessionRecord | undefined> {
  return storage.get<SessionRecord>(sessions, id);
}

export function createSession(store: Store, user: string, lifetimeMs: number): Promise<SessionRecord> {
  return store.mutate((m) => addSession(m, user, lifetimeMs));
}

/** Replaces a live session by a new one (new id, new expiry): the old token stops working. */
export function renewSession(store: Store, id: string, lifetimeMs: number): Promise<SessionRecord | undefined> {
  return store.mutate(async (m) => {
    const old = await getSession(store.storage, id);
    if (!old || old.expires <= m.now) return undefined;
    removeSession(m, old);
    return addSession(m, old.user, lifetimeMs);
  });
}

/** Ends a session; false when there was none with that id. */
export function revokeSession(store: Store, id: string): Promise<boolean> {
  return store.mutate(async (m) => {
    const session = await getSession(store.storage, id);
    if (session) removeSession(m, session);
    return session !== undefined;
  });
}

/** One page of a user's sessions, in id order. */
export function listUserSessions(storage: Storage, user: string, page: PageRequest): Promise<Page<SessionRecord>> {
  return readPage<string, SessionRecord>(storage, byUser, { gte: `${user}:`, lt: `${user};` }, page, (chunk) =>
    storage.getMany<SessionRecord>(sessions, chunk.map(([, id]) => id)),
  );
}

/** Deletes up to `limit` expired sessions (oldest first); returns how many. Bounded work per call. */
export function pruneExpiredSessions(store: Store, limit = 200): Promise<number> {
  return store.mutate(async (m) => {
    const ids: string[] = [];
    for await (const [, id] of store.storage.entries<string>(byExpiry, { lt: `${m.now.toString().padStart(15, '0')}:`, limit })) ids.push(id);
    const expired = await store.storage.getMany<SessionRecord>(sessions, ids);
    for (const session of expired) if (session) removeSession(m, session);
    return ids.length;
  });
}
