import { z } from 'zod';
import { fileSections, below, SEP, type FileRecord } from './file-records.js';
import type { Storage } from './storage.js';
import type { Mutation } from './store.js';

/**
 * Who may do what with a file. Roles are ordered `reader < commenter < writer < owner`. A user's
 * role on a file is:
 * - `owner` when the user created the file or any of its ancestor spaces;
 * - otherwise the nearest explicit grant: the file's own, else its parent space's, and so on up
 *   (at one level, the higher of the user's grant and the `anyone` grant);
 * - otherwise none (`undefined`): the file does not exist for that user (404, never 403).
 * Trashed files keep their roles; whether a route serves trashed files is the route's business.
 */
export const roles = ['reader', 'commenter', 'writer', 'owner'] as const;
export type Role = (typeof roles)[number];
export const roleSchema = z.enum(roles);

/** Position in `roles`; -1 for no role. */
export const roleRank = (role: Role | undefined) => (role === undefined ? -1 : roles.indexOf(role));

export const atLeast = (role: Role | undefined, needed: Role) => roleRank(role) >= roleRank(needed);

/** An explicit grant on one file (and, through inheritance, its subtree). */
export interface Grant {
  type: 'user' | 'anyone';
  /** The user's key; absent for `anyone`. */
  id?: string;
  role: Role;
  grantedBy: string;
  time: number;
}

const grantSuffix = (grant: Pick<Grant, 'type' | 'id'>) => (grant.type === 'anyone' ? 'anyone' : `user:${grant.id}`);
export const grantKey = (fileKey: string, grant: Pick<Grant, 'type' | 'id'>) => `${fileKey}${SEP}${grantSuffix(grant)}`;

/** The explicit grants on one file (not inherited ones), `anyone` first. */
export async function grantsOn(storage: Storage, fileKey: string): Promise<Grant[]> {
  const grants: Grant[] = [];
  for await (const [, grant] of storage.entries<Grant>(fileSections.grants, below(fileKey))) grants.push(grant);
  return grants;
}

/** Stages a grant (replacing the same user's or `anyone`'s previous one) with its by-user index entry. */
export function putGrant(m: Mutation, fileKey: string, grant: Grant): void {
  m.put(fileSections.grants, grantKey(fileKey, grant), grant);
  if (grant.type === 'user') m.put(fileSections.grantsByUser, `${grant.id}${SEP}${fileKey}`, grant.role);
}

/** Stages the removal of a grant and its by-user index entry. */
export function removeGrant(m: Mutation, fileKey: string, grant: Pick<Grant, 'type' | 'id'>): void {
  m.del(fileSections.grants, grantKey(fileKey, grant));
  if (grant.type === 'user') m.del(fileSections.grantsByUser, `${grant.id}${SEP}${fileKey}`);
}

/** The user's role on a file record already read (saves a read in routes that need the record anyway). */
export async function roleOfRecord(storage: Storage, user: string, record: Pick<FileRecord, 'key' | 'owner' | 'parents'>): Promise<Role | undefined> {
  if (record.owner === user) return 'owner';
  const ancestors = await storage.getMany<FileRecord>(fileSections.files, record.parents);
  if (ancestors.some((ancestor) => ancestor?.owner === user)) return 'owner';
  // Nearest first: the file itself, then its parent, up to the root-most space.
  const chain = [record.key, ...[...record.parents].reverse()];
  const keys = chain.flatMap((fileKey) => [grantKey(fileKey, { type: 'user', id: user }), grantKey(fileKey, { type: 'anyone' })]);
  const grants = await storage.getMany<Grant>(fileSections.grants, keys);
  for (let level = 0; level < chain.length; level++) {
    const mine = grants[level * 2];
    const anyone = grants[level * 2 + 1];
    if (mine || anyone) return roleRank(mine?.role) >= roleRank(anyone?.role) ? mine!.role : anyone!.role;
  }
  return undefined;
}

/** The user's role on the file with this key; `undefined` when it does not exist or the user has none. */
export async function roleOf(storage: Storage, user: string, fileKey: string): Promise<Role | undefined> {
  const record = await storage.get<FileRecord>(fileSections.files, fileKey);
  return record ? roleOfRecord(storage, user, record) : undefined;
}

/** Whether the user may read the file (any role). True for trashed files the user had access to. */
export async function canRead(storage: Storage, user: string, fileKey: string): Promise<boolean> {
  return (await roleOf(storage, user, fileKey)) !== undefined;
}
