import { below, fileSections, parentIdOf, rootOf, SEP, SPACE_KIND, type FileRecord } from './file-records.js';
import { readPageFrom, type Page, type PageRequest } from './paging.js';
import { intersection, matchesLongWords, mergedSources, termQueryOf, termsOf } from './search-terms.js';
import type { Storage, WriteOp } from './storage.js';
import type { Mutation } from './store.js';

/**
 * Search of files by name and description. `file-words` holds `{scope}\0{term}\0{key}` for each
 * search term of a live file (see search-terms.ts) under each of its scopes: its creator's root,
 * every ancestor space, and the file itself. A scope thus finds a whole subtree, and what a user
 * can read is a handful of scopes: the user's own root (the files the user created), the spaces
 * at that root (what others created in them), and each file shared with the user (grants-by-user).
 * The entries are written and removed with the listing entries (create, patch, trash, restore).
 *
 * Files readable only through an `anyone` grant are not searched: the caller knows them by link,
 * and they cannot be enumerated per caller.
 */

const searchScopes = (record: FileRecord) => [rootOf(record.owner), ...record.parents, record.key];

const textsOf = (record: FileRecord) => [record.info.name, record.info.description ?? ''];

/** The search index keys of a live file (verify checks them against the index). */
export function fileSearchKeys(record: FileRecord): string[] {
  const terms = [...termsOf(textsOf(record))];
  return searchScopes(record).flatMap((scope) => terms.map((term) => `${scope}${SEP}${term}${SEP}${record.key}`));
}

export function putSearchTerms(m: Mutation, record: FileRecord): void {
  for (const key of fileSearchKeys(record)) m.put(fileSections.words, key, 0);
}

export function deleteSearchTerms(m: Mutation, record: FileRecord): void {
  for (const key of fileSearchKeys(record)) m.del(fileSections.words, key);
}

/** The scopes that hold every file `user` can search: see the module comment. */
async function workspaceScopes(storage: Storage, user: string): Promise<string[]> {
  const scopes = new Set([rootOf(user)]);
  for await (const indexKey of storage.keys(fileSections.childrenByKind, below(`${rootOf(user)}${SEP}${SPACE_KIND}`))) {
    scopes.add(indexKey.slice(indexKey.lastIndexOf(SEP) + 1));
  }
  for await (const indexKey of storage.keys(fileSections.grantsByUser, below(user))) scopes.add(indexKey.slice(user.length + 1));
  return [...scopes];
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
  const scopes = filter.parent === undefined ? await workspaceScopes(storage, user) : [filter.parent];
  const source = mergedSources(
    scopes.map((scope) => intersection(storage, fileSections.words, search.terms.map((term) => `${scope}${SEP}${term}${SEP}`), { reverse: false })),
  );
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

/** Builds `file-words` for files written before it existed, `batch` files per write (migration 5). */
export async function indexFileWords(storage: Storage, batch = 500): Promise<void> {
  let after = '';
  for (;;) {
    const ops: WriteOp[] = [];
    let read = 0;
    for await (const [key, record] of storage.entries<FileRecord>(fileSections.files, { gt: after, limit: batch })) {
      if (!record.deleted) for (const wordKey of fileSearchKeys(record)) ops.push({ type: 'put', section: fileSections.words, key: wordKey, value: 0 });
      [after, read] = [key, read + 1];
    }
    await storage.write(ops);
    if (read < batch) return;
  }
}
