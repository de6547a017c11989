import { StoreError } from './store-error.js';
import { removeGrant, roleOfRecord, type Grant } from './access.js';
import { below, fileSections, pad, parentIdOf, SEP, SPACE_KIND, type FileRecord, type TrashEntry } from './file-records.js';
import { placementsOf } from './file-search.js';
import { checkVersion, deleteListed, filePaths, parentOf, putListed, readVisibleFile, requireRole } from './files.js';
import { readPage, type Page, type PageRequest } from './paging.js';
import type { Storage } from './storage.js';
import type { Mutation, Store } from './store.js';
import { withFields } from './with-fields.js';

/**
 * Trash: deleting a file moves it and its whole subtree out of every listing (records stay, with
 * `deleted: true`); the subtree's root is the trash entry, listed for the user who deleted it.
 * A file trashed on its own before its space was trashed stays its own entry: restoring the space
 * leaves it in trash. Emptying removes records, contents, revisions and grants for good, and
 * retires the keys (see file-records.ts). Every route acts only on entries the caller owns now:
 * an entry stays in the trash of whoever trashed it, and a revoked owner loses it with the role.
 */

const keyOf = (indexKey: string) => indexKey.slice(indexKey.lastIndexOf(SEP) + 1);
export const trashByUserKey = (entry: TrashEntry, key: string) => `${entry.user}${SEP}${pad(entry.time)}${SEP}${key}`;
export const trashedChildKey = (record: FileRecord) => `${parentIdOf(record)}${SEP}${record.key}`;

/**
 * The root and every descendant reachable through one children section, breadth first. `skip`
 * leaves a descendant (and its subtree) out.
 */
async function subtree(storage: Storage, root: FileRecord, section: string, skip: (keys: string[]) => Promise<boolean[]> = async (keys) => keys.map(() => false)): Promise<FileRecord[]> {
  const found = [root];
  let spaces = root.kind === SPACE_KIND ? [root.key] : [];
  while (spaces.length) {
    const next: string[] = [];
    for (const space of spaces) {
      const keys: string[] = [];
      for await (const indexKey of storage.keys(section, below(space))) keys.push(keyOf(indexKey));
      const skipped = await skip(keys);
      const records = await storage.getMany<FileRecord>(fileSections.files, keys.filter((_, i) => !skipped[i]));
      for (const record of records) {
        if (!record) continue;
        found.push(record);
        if (record.kind === SPACE_KIND) next.push(record.key);
      }
    }
    spaces = next;
  }
  return found;
}

/** Moves a file and its subtree to trash in one batch (owner only, honouring `If-Match`). */
export async function trashFile(store: Store, user: string, key: string, ifMatch?: string): Promise<void> {
  await store.mutate(async (m) => {
    const file = await readVisibleFile(store.storage, user, key);
    requireRole(file, 'owner', 'delete');
    checkVersion(ifMatch, file.record.version);
    const records = await subtree(store.storage, file.record, fileSections.children);
    const placements = await placementsOf(store.storage, records);
    for (const [i, record] of records.entries()) {
      deleteListed(m, record, placements[i]);
      m.put(fileSections.files, record.key, withFields(record, { deleted: true }));
      m.put(fileSections.trashedChildren, trashedChildKey(record), record.key);
      m.change({ operation: 'deleted', kind: record.kind, id: record.key, parent: parentOf(record), data: { trash: true }, paths: filePaths(record.key), visibility: { file: record.key } });
    }
    const entry: TrashEntry = { user, time: m.now };
    m.put(fileSections.trash, key, entry);
    m.put(fileSections.trashByUser, trashByUserKey(entry, key), key);
  });
}

/** A trash entry the user may act on: it exists, and the user owns the file. */
async function readTrashed(storage: Storage, user: string, key: string): Promise<{ record: FileRecord; entry: TrashEntry }> {
  const [entry, record] = await Promise.all([storage.get<TrashEntry>(fileSections.trash, key), storage.get<FileRecord>(fileSections.files, key)]);
  const role = entry && record ? await roleOfRecord(storage, user, record) : undefined;
  if (!entry || !record || !role) throw new StoreError('file_not_found', `There is no file ${key} in trash.`);
  requireRole({ record, role }, 'owner', 'restore or delete');
  return { record, entry };
}

/** The records of these keys that the user owns now (`undefined` for the others), in order. */
async function ownedNow(storage: Storage, user: string, keys: string[]): Promise<(FileRecord | undefined)[]> {
  const records = await storage.getMany<FileRecord>(fileSections.files, keys);
  return Promise.all(records.map(async (record) => (record && (await roleOfRecord(storage, user, record)) === 'owner' ? record : undefined)));
}

/** How many trash index entries one page may read while leaving out those the caller no longer owns. */
const TRASH_SCAN_BUDGET = 2000;

/** A file in trash as `GET /trash` lists it: with when and by whom it was deleted. */
export type TrashedFile = FileRecord & { trashed: TrashEntry };

/** One page of the user's trash entries that the user still owns, most recently trashed last. */
export async function listTrash(storage: Storage, user: string, page: PageRequest): Promise<Page<TrashedFile>> {
  return readPage<string, TrashedFile>(storage, fileSections.trashByUser, below(user), { ...page, budget: TRASH_SCAN_BUDGET }, async (chunk) => {
    const records = await ownedNow(storage, user, chunk.map(([, key]) => key));
    // The index key is `{user}\0{time}\0{key}`: the entry itself needs no read.
    return records.map((record, index) => {
      if (!record) return undefined;
      const time = Number(chunk[index][0].slice(user.length + 1, chunk[index][0].lastIndexOf(SEP)));
      return withFields(record, { trashed: { user, time } });
    });
  });
}

/**
 * Restores a trash entry and the part of its subtree trashed with it. The parent space must be
 * live (409 `parent_gone` otherwise: restore the parent first).
 */
export async function restoreFile(store: Store, user: string, key: string): Promise<FileRecord> {
  const [restored] = await restoreFiles(store, user, [key]);
  return restored;
}

/**
 * Restores trash entries in one batch, all or none, in the order given: a file whose space is
 * restored earlier in the same batch may follow it.
 */
export async function restoreFiles(store: Store, user: string, keys: string[]): Promise<FileRecord[]> {
  return store.mutate(async (m) => {
    const restoredSpaces = new Set<string>();
    const restored: FileRecord[] = [];
    for (const key of new Set(keys)) {
      const { record: root, entry } = await readTrashed(store.storage, user, key);
      const parentKey = parentOf(root);
      if (parentKey !== undefined && !restoredSpaces.has(parentKey)) {
        const parent = await store.storage.get<FileRecord>(fileSections.files, parentKey);
        if (!parent || parent.deleted) throw new StoreError('parent_gone', `The space ${parentKey} this file was in is gone or in trash; restore it first.`);
      }
      const isTrashEntry = async (children: string[]) => (await store.storage.getMany(fileSections.trash, children)).map((found) => found !== undefined);
      const records = await subtree(store.storage, root, fileSections.trashedChildren, isTrashEntry);
      const placements = await placementsOf(store.storage, records);
      for (const [i, trashed] of records.entries()) {
        const { deleted: _, ...record } = trashed;
        m.put(fileSections.files, record.key, record);
        putListed(m, record, placements[i]);
        m.del(fileSections.trashedChildren, trashedChildKey(record));
        m.change({ operation: 'created', kind: record.kind, id: record.key, parent: parentOf(record), data: record, paths: filePaths(record.key), visibility: { file: record.key } });
        if (record.kind === SPACE_KIND) restoredSpaces.add(record.key);
      }
      m.del(fileSections.trash, key);
      m.del(fileSections.trashByUser, trashByUserKey(entry, key));
      const { deleted: _, ...file } = root;
      restored.push(file as FileRecord);
    }
    return restored;
  });
}

/**
 * Stages the permanent removal of a trashed subtree: records, contents, revisions, grants,
 * indexes; its keys are retired in the same batch, so nobody can take over what stays behind.
 */
async function purge(storage: Storage, m: Mutation, root: FileRecord): Promise<string[]> {
  const records = await subtree(storage, root, fileSections.trashedChildren);
  const entries = await storage.getMany<TrashEntry>(fileSections.trash, records.map((record) => record.key));
  for (const [i, record] of records.entries()) {
    m.del(fileSections.files, record.key);
    m.put(fileSections.retiredKeys, record.key, m.now);
    m.del(fileSections.media, record.key);
    m.del(fileSections.trashedChildren, trashedChildKey(record));
    for await (const revision of storage.keys(fileSections.revisions, below(record.key))) m.del(fileSections.revisions, revision);
    for await (const secret of storage.keys(fileSections.secrets, below(record.key))) m.del(fileSections.secrets, secret);
    for await (const [, grant] of storage.entries<Grant>(fileSections.grants, below(record.key))) removeGrant(m, record.key, grant);
    const entry = entries[i];
    if (entry) {
      m.del(fileSections.trash, record.key);
      m.del(fileSections.trashByUser, trashByUserKey(entry, record.key));
    }
  }
  return records.map((record) => record.key);
}

/** Deletes trash entries and their subtrees for good (owner only), in one batch, all or none. */
export async function deleteFromTrash(store: Store, user: string, keys: string[]): Promise<void> {
  await store.mutate(async (m) => {
    const purged = new Set<string>();
    for (const key of new Set(keys)) {
      // A key purged with an entry above it earlier in the batch is gone already.
      if (purged.has(key)) continue;
      const { record } = await readTrashed(store.storage, user, key);
      for (const key of await purge(store.storage, m, record)) purged.add(key);
    }
  });
}

/** Deletes every entry of the user's trash that the user still owns for good, in one batch; answers how many. */
export async function emptyTrash(store: Store, user: string): Promise<number> {
  return store.mutate(async (m) => {
    const keys: string[] = [];
    for await (const [, key] of store.storage.entries<string>(fileSections.trashByUser, below(user))) keys.push(key);
    const owned = (await ownedNow(store.storage, user, keys)).filter((record): record is FileRecord => record !== undefined);
    for (const record of owned) await purge(store.storage, m, record);
    return owned.length;
  });
}
