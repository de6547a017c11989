import { z } from 'zod';
import { LOCAL_OWNER } from '../auth/caller.js';
import { StoreError } from './store-error.js';
import { getUser } from './users.js';
import { grantsOn, putGrant, removeGrant, roleSchema, type Grant } from './access.js';
import { below, fileSections, SEP, type FileRecord } from './file-records.js';
import { filePaths, parentOf, readVisibleFile, requireRole } from './files.js';
import { readPage, type Page, type PageRequest } from './paging.js';
import type { Storage } from './storage.js';
import type { Store } from './store.js';

/**
 * Sharing a file: explicit grants to one user or to `anyone`, changed by owners only. A grant
 * names a user who exists (an account, or the desktop owner); removing one names any user key.
 */

export const userKeySchema = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'must be a user key');

const target = z.discriminatedUnion('type', [
  z.object({ type: z.literal('user'), id: userKeySchema }),
  z.object({ type: z.literal('anyone') }),
]);

/** `PATCH /files/{key}/users`: `[{op: "add", type, id?, value: role} | {op: "remove", type, id?}]`. */
export const grantOperationsSchema = z
  .array(
    z.union([
      z.intersection(target, z.object({ op: z.literal('add'), value: roleSchema })),
      z.intersection(target, z.object({ op: z.literal('remove') })),
    ]),
  )
  .min(1)
  .max(100)
  .refine((ops) => !ops.some((op) => op.op === 'add' && op.type === 'anyone' && op.value === 'owner'), {
    message: 'anyone cannot be made an owner',
  });

export type GrantOperation = z.infer<typeof grantOperationsSchema>[number];

/** The grants set on the file itself (readers may see who else has access). */
export async function listGrants(storage: Storage, user: string, key: string): Promise<Grant[]> {
  await readVisibleFile(storage, user, key);
  return grantsOn(storage, key);
}

/** Applies grant changes in one batch (owner only); answers the file's grants afterwards. */
export async function changeGrants(store: Store, user: string, key: string, operations: GrantOperation[]): Promise<Grant[]> {
  await store.mutate(async (m) => {
    const file = await readVisibleFile(store.storage, user, key);
    requireRole(file, 'owner', 'share');
    const base = { kind: file.record.kind, id: key, parent: parentOf(file.record), paths: filePaths(key) };
    const granted = [...new Set(operations.flatMap((op) => (op.op === 'add' && op.type === 'user' && op.id !== LOCAL_OWNER ? [op.id] : [])))];
    const accounts = await Promise.all(granted.map((id) => getUser(store.storage, id)));
    const missing = granted.find((_, index) => accounts[index] === undefined);
    if (missing !== undefined) throw new StoreError('user_not_found', `There is no user ${missing}.`, { extra: { user: missing } });
    for (const op of operations) {
      const who = op.type === 'user' ? { type: op.type, id: op.id } : { type: op.type };
      if (op.op === 'add') {
        putGrant(m, key, { ...who, role: op.value, grantedBy: user, time: m.now });
        m.change({ ...base, operation: 'access-granted', data: { ...who, role: op.value }, visibility: { file: key } });
      } else {
        removeGrant(m, key, who);
        const revoked = op.type === 'user' ? { revoked: [op.id] } : {};
        m.change({ ...base, operation: 'access-removed', data: who, visibility: { file: key, ...revoked } });
      }
    }
  });
  return grantsOn(store.storage, key);
}

/** Files granted to the user directly (not through `anyone`), one page in key order; trashed ones are left out. */
export async function listShared(storage: Storage, user: string, page: PageRequest): Promise<Page<FileRecord>> {
  return readPage<string, FileRecord>(storage, fileSections.grantsByUser, below(user), { ...page, budget: 2000 }, async (chunk) => {
    const records = await storage.getMany<FileRecord>(fileSections.files, chunk.map(([indexKey]) => indexKey.slice(indexKey.lastIndexOf(SEP) + 1)));
    return records.map((record) => (record && !record.deleted ? record : undefined));
  });
}
