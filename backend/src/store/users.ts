import { randomBytes } from 'node:crypto';
import { StoreError } from './store-error.js';
import { readPage, type Page, type PageRequest } from './paging.js';
import type { Mutation, Store } from './store.js';
import type { Storage } from './storage.js';

/** A multi-user account. The desktop owner (`LOCAL_OWNER`) has no record: it is implicit. */
export interface UserRecord {
  key: string;
  /** Display name, shown in share dialogs. */
  name: string;
  /** Login name of a password account (unique, case-insensitive). */
  username?: string;
  admin: boolean;
  created: number;
  passwordHash?: string;
  /** The identity of an OIDC account at its issuer. */
  oidc?: { issuer: string; subject: string };
}

/** What the API shows of a user: never the password hash. */
export type PublicUser = Pick<UserRecord, 'key' | 'name' | 'username' | 'admin' | 'created'>;

export function publicUser({ key, name, username, admin, created }: UserRecord): PublicUser {
  return { key, name, ...(username !== undefined ? { username } : {}), admin, created };
}

export const userSections = { users: 'users', byName: 'users-by-name', byOidc: 'users-by-oidc' } as const;
const users = userSections.users;
/** username (lower case) → user key */
const byName = userSections.byName;
/** `<issuer> <subject>` → user key */
const byOidc = userSections.byOidc;

export const nameKey = (username: string) => username.toLowerCase();
export const oidcKey = (identity: { issuer: string; subject: string }) => `${identity.issuer} ${identity.subject}`;

export function getUser(storage: Storage, key: string): Promise<UserRecord | undefined> {
  return storage.get<UserRecord>(users, key);
}

export async function findUserByName(storage: Storage, username: string): Promise<UserRecord | undefined> {
  const key = await storage.get<string>(byName, nameKey(username));
  return key === undefined ? undefined : getUser(storage, key);
}

/** One page of accounts in key order, as others may see them. */
export function listUsers(storage: Storage, page: PageRequest): Promise<Page<PublicUser>> {
  return readPage<UserRecord, PublicUser>(storage, users, {}, page, async (chunk) => chunk.map(([, user]) => publicUser(user)));
}

/**
 * Stages a new account inside a running mutation (so an invite can be spent in the same batch).
 * Must run inside `store.mutate`, where no other write interleaves with the uniqueness check.
 */
export async function addUser(storage: Storage, m: Mutation, fields: Omit<UserRecord, 'key' | 'created'>): Promise<UserRecord> {
  if (fields.username !== undefined && (await storage.get<string>(byName, nameKey(fields.username))) !== undefined) {
    throw new StoreError('username_taken', `The user name "${fields.username}" is taken.`);
  }
  const user: UserRecord = { key: randomBytes(12).toString('base64url'), created: m.now, ...fields };
  m.put(users, user.key, user);
  if (user.username !== undefined) m.put(byName, nameKey(user.username), user.key);
  if (user.oidc) m.put(byOidc, oidcKey(user.oidc), user.key);
  return user;
}

export function createUser(store: Store, fields: Omit<UserRecord, 'key' | 'created'>): Promise<UserRecord> {
  return store.mutate((m) => addUser(store.storage, m, fields));
}

/** The account of an OIDC identity, created on its first login. */
export function findOrCreateOidcUser(store: Store, identity: { issuer: string; subject: string }, name: string): Promise<UserRecord> {
  return store.mutate(async (m) => {
    const key = await store.storage.get<string>(byOidc, oidcKey(identity));
    const existing = key === undefined ? undefined : await getUser(store.storage, key);
    return existing ?? addUser(store.storage, m, { name, admin: false, oidc: identity });
  });
}
