import { below, fileSections, parentIdOf, rootOf, SEP, SPACE_KIND, type FileRecord } from './file-records.js';
import { readPageFrom, type EntrySource, type Page, type PageRequest } from './paging.js';
import { intersection, matchesLongWords, mergedSources, termQueryOf, termsOf, type TermQuery } from './search-terms.js';
import type { Storage, StorageReader, WriteOp } from './storage.js';
import type { Mutation } from './store.js';

/**
 * Search of files by name and description. `file-words` holds `{scope}\0{term}\0{key}` for each
 * search term of a live file (see search-terms.ts) under each of its scopes: the root of each of
 * its owners (its creator and the creators of its ancestor spaces, who all own it: see
 * access.ts), every ancestor space, and a space itself. What a user can read is then a handful of
 * scopes: the user's own root (every file the user owns, wherever it is and whoever created it)
 * and each space shared with the user (grants-by-user), whose scope is its whole subtree. A
 * search reads one range per scope, however many spaces the user has; any other file shared with
 * the user is matched on its own record, which spares every file a scope that would hold only its
 * own terms (half the search entries of a file at a root). The entries are written and removed
 * with the listing entries (create, patch, trash, restore); owners, parents and kinds never
 * change, so neither does a file's set of scopes.
 *
 * Files readable only through an `anyone` grant are not searched: the caller knows them by link,
 * and they cannot be enumerated per caller.
 */

/** Where a new file goes: its ancestor spaces, root-most first, and their owners (its owners too). */
export interface Placement {
  parents: string[];
  /** The creators of `parents`, without repeats. */
  owners: string[];
}

/** A file at its creator's root. */
export const rootPlacement: Placement = { parents: [], owners: [] };

/** The placement of a file inside `space`, which is placed at `placement`. */
export const placementIn = (space: Pick<FileRecord, 'key' | 'owner'>, placement: Placement): Placement => ({
  parents: [...placement.parents, space.key],
  owners: [...new Set([...placement.owners, space.owner])],
});

/** The placement of each of `records`, reading in one go the ancestors that are not among them. */
export async function placementsOf(storage: StorageReader, records: FileRecord[]): Promise<Placement[]> {
  const ownerOf = new Map(records.map((record) => [record.key, record.owner]));
  const missing = [...new Set(records.flatMap((record) => record.parents))].filter((key) => !ownerOf.has(key));
  const ancestors = await storage.getMany<FileRecord>(fileSections.files, missing);
  ancestors.forEach((ancestor, i) => ancestor && ownerOf.set(missing[i], ancestor.owner));
  return records.map((record) => ({ parents: record.parents, owners: [...new Set(record.parents.flatMap((key) => ownerOf.get(key) ?? []))] }));
}

export async function placementOf(storage: StorageReader, record: FileRecord): Promise<Placement> {
  return (await placementsOf(storage, [record]))[0];
}

const searchScopes = (record: FileRecord, placement: Placement) => [
  ...new Set([record.owner, ...placement.owners].map(rootOf)),
  ...record.parents,
  ...(record.kind === SPACE_KIND ? [record.key] : []),
];

const textsOf = (record: FileRecord) => [record.info.name, record.info.description ?? ''];

/** A `file-words` key: file `key` holds `term` in `scope`. */
const searchKey = (scope: string, term: string, key: string) => `${scope}${SEP}${term}${SEP}${key}`;

/** The search index keys of a live file at `placement` (verify checks them against the index). */
export function fileSearchKeys(record: FileRecord, placement: Placement): string[] {
  const terms = [...termsOf(textsOf(record))];
  return searchScopes(record, placement).flatMap((scope) => terms.map((term) => searchKey(scope, term, record.key)));
}

/**
 * Whether an index key is one of `fileSearchKeys(record, placement)`, answered from the file's
 * scopes and terms without building every key: verify checks each entry of a space's scope, and
 * one chunk of it holds entries of as many files.
 */
export function isFileSearchKey(record: FileRecord, placement: Placement): (indexKey: string) => boolean {
  const scopes = new Set(searchScopes(record, placement));
  const terms = termsOf(textsOf(record));
  return (indexKey) => {
    // Scopes, terms and file keys never hold the separator.
    const [scope, term, key, ...rest] = indexKey.split(SEP);
    return rest.length === 0 && key === record.key && scopes.has(scope) && terms.has(term);
  };
}

export function putSearchTerms(m: Mutation, record: FileRecord, placement: Placement): void {
  for (const key of fileSearchKeys(record, placement)) m.put(fileSections.words, key, 0);
}

/**
 * Stages the search entries that differ between two versions of a live file (same key, owner and
 * parents, hence the same scopes): the terms `previous` had and `record` has not are removed, the
 * new ones added, the shared ones left alone. The placement is read only when the terms changed.
 */
export async function replaceSearchTerms(m: Mutation, previous: FileRecord, record: FileRecord, placement: () => Promise<Placement>): Promise<void> {
  const before = termsOf(textsOf(previous));
  const after = termsOf(textsOf(record));
  const removed = [...before].filter((term) => !after.has(term));
  const added = [...after].filter((term) => !before.has(term));
  if (!removed.length && !added.length) return;
  const scopes = searchScopes(record, await placement());
  for (const scope of scopes) {
    for (const term of removed) m.del(fileSections.words, searchKey(scope, term, record.key));
    for (const term of added) m.put(fileSections.words, searchKey(scope, term, record.key), 0);
  }
}

export function deleteSearchTerms(m: Mutation, record: FileRecord, placement: Placement): void {
  for (const key of fileSearchKeys(record, placement)) m.del(fileSections.words, key);
}

/**
 * Every file `user` can search (see the module comment): the scopes that hold them, and the live
 * files shared with the user that are not spaces, which no scope holds.
 */
async function workspaceOf(storage: Storage, user: string): Promise<{ scopes: string[]; sharedFiles: FileRecord[] }> {
  const granted: string[] = [];
  for await (const indexKey of storage.keys(fileSections.grantsByUser, below(user))) granted.push(indexKey.slice(user.length + 1));
  const records = await storage.getMany<FileRecord>(fileSections.files, granted);
  const scopes = [rootOf(user)];
  const sharedFiles: FileRecord[] = [];
  records.forEach((record, i) => {
    if (!record || record.deleted) return;
    if (record.kind === SPACE_KIND) scopes.push(granted[i]);
    else sharedFiles.push(record);
  });
  return { scopes, sharedFiles };
}

/** A file alone as a source of search matches: itself when it holds every term of the query. */
function ownMatch(record: FileRecord, query: TermQuery): EntrySource<string> {
  const terms = termsOf(textsOf(record));
  const held = query.terms.every((term) => terms.has(term));
  return async (count, after) => ({ entries: held && count > 0 && (after === undefined || record.key > after) ? [[record.key, record.key]] : [], more: false });
}

export interface SearchFilter {
  query: string;
  /** Only the direct children of this space (checked visible by the caller); the whole workspace when absent. */
  parent?: string;
  kind?: string;
  since?: number;
}

/** How many matched files one page may read while leaving out those other filters reject. */
const SEARCH_SCAN_BUDGET = 2000;

/**
 * One page of the files the caller can read whose name or description hold every word of the
 * query, in key order: the files holding all the query's terms in each of the caller's scopes (or
 * in the parent's), merged, then checked against the other filters. Files holding no word of the
 * query cost nothing.
 */
export async function searchFiles(storage: Storage, user: string, filter: SearchFilter, page: PageRequest): Promise<Page<FileRecord>> {
  const search = termQueryOf(filter.query);
  if (!search) return { items: [] };
  const { scopes, sharedFiles } = filter.parent === undefined ? await workspaceOf(storage, user) : { scopes: [filter.parent], sharedFiles: [] };
  const source = mergedSources([
    ...scopes.map((scope) => intersection(storage, fileSections.words, search.terms.map((term) => `${scope}${SEP}${term}${SEP}`), { reverse: false })),
    ...sharedFiles.map((record) => ownMatch(record, search)),
  ]);
  const matches = (record: FileRecord | undefined): record is FileRecord =>
    !!record &&
    !record.deleted &&
    (filter.parent === undefined || parentIdOf(record) === filter.parent) &&
    (filter.kind === undefined || record.kind === filter.kind) &&
    (filter.since === undefined || record.updated > filter.since) &&
    matchesLongWords(search, () => textsOf(record));
  return readPageFrom(source, { ...page, budget: SEARCH_SCAN_BUDGET }, async (chunk) => {
    const records = await storage.getMany<FileRecord>(fileSections.files, chunk.map(([key]) => key));
    return records.map((record) => (matches(record) ? record : undefined));
  });
}

/**
 * Writes `file-words` of every live file, `batch` files per write: migration 5 built it, and
 * migration 6 adds the roots of the ancestors' owners (puts of keys already there change nothing).
 */
export function indexFileWords(storage: Storage, batch = 500): Promise<void> {
  return rewriteLiveFiles(storage, batch, async (records) => {
    const placements = await placementsOf(storage, records);
    return records.flatMap((record, i) => fileSearchKeys(record, placements[i]).map((key): WriteOp => ({ type: 'put', section: fileSections.words, key, value: 0 })));
  });
}

/** Migration 8: removes the scope of each file that is not a space, which held its own terms only. */
export function dropOwnScopesOfFiles(storage: Storage, batch = 500): Promise<void> {
  return rewriteLiveFiles(storage, batch, async (records) => {
    // The keys as stored, not as today's terms would make them; each file's in one read, the batch's at once.
    const scopes = await Promise.all(records.filter((record) => record.kind !== SPACE_KIND).map((record) => storage.keyList(fileSections.words, below(record.key))));
    return scopes.flat().map((key): WriteOp => ({ type: 'del', section: fileSections.words, key }));
  });
}

/** Writes, `batch` live files at a time in key order, the operations `opsOf` makes for them. */
async function rewriteLiveFiles(storage: Storage, batch: number, opsOf: (records: FileRecord[]) => Promise<WriteOp[]>): Promise<void> {
  let after = '';
  for (;;) {
    const records: FileRecord[] = [];
    let read = 0;
    for await (const [key, record] of storage.entries<FileRecord>(fileSections.files, { gt: after, limit: batch })) {
      if (!record.deleted) records.push(record);
      [after, read] = [key, read + 1];
    }
    await storage.write(await opsOf(records));
    if (read < batch) return;
  }
}
