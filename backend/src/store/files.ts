import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { StoreError } from './store-error.js';
import { atLeast, roleOfRecord, type Role } from './access.js';
import {
  below, fileSections, pad, parentIdOf, protectedFileFields, rootOf, SEP, SEP_END, SPACE_KIND,
  type ChildEntry, type FileRecord, type MediaRecord,
} from './file-records.js';
import { checkSize, type DocumentLimits } from './document-limits.js';
import { checkFileContents } from '../projects/project-document.js';
import { deleteSearchTerms, placementIn, placementOf, putSearchTerms, replaceSearchTerms, rootPlacement, searchFiles, type Placement } from './file-search.js';
import { hasAttachments } from './history.js';
import { applyJsonPatch, type PatchRequest } from './json-patch.js';
import { readPage, type Page, type PageRequest } from './paging.js';
import type { KeyRange, Storage, StorageReader } from './storage.js';
import type { Mutation, Store } from './store.js';
import { withFields } from './with-fields.js';
import { sealSecretFields } from '../secrets/contents.js';
import { Secrets } from '../secrets/secrets.js';

/**
 * Client keys of files and app records: any URL-safe key (core's nanoids, Postman's ids, UUIDs),
 * kept exactly as given. The server makes UUIDs.
 */
export const clientKeySchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1 to 128 letters, digits, "_" or "-"');
export const fileKeySchema = clientKeySchema;
export const kindSchema = z.string().regex(/^[A-Za-z0-9#._:-]{1,100}$/, 'must be a kind such as Core#Space');

const infoSchema = z.looseObject({ name: z.string().min(1).max(1000), description: z.string().max(10_000).optional() });

/** What a client sends to create a file; server-owned fields in it are ignored (overwritten). */
export const fileInputSchema = z.looseObject({ key: clientKeySchema.optional(), kind: kindSchema, info: infoSchema });
export type FileInput = z.infer<typeof fileInputSchema>;

/** A file the caller may see, with the caller's role on it. */
export interface VisibleFile {
  record: FileRecord;
  role: Role;
}

const notFound = (key: string) => new StoreError('file_not_found', `There is no file ${key}.`);

/** Missing, trashed and not-visible files all answer 404, so that a key reveals nothing. */
export async function readVisibleFile(storage: Storage, user: string, key: string): Promise<VisibleFile> {
  const record = await storage.get<FileRecord>(fileSections.files, key);
  return { record: record as FileRecord, role: await visibleRole(storage, user, key, record) };
}

/** What the visibility check and an answer of the record as it is need: the stored text, and fields of the record. */
export interface VisibleFileJson {
  /** The record's JSON text as stored. */
  json: string;
  version: number;
  role: Role;
}

/**
 * `readVisibleFile` for an answer that is the record as it is: its stored JSON text, its version
 * and the caller's role, with the same 404s. The record is decoded for the check only when its
 * text is not the one this storage last decoded for that key (`checkedFields`).
 */
export async function readVisibleFileJson(storage: Storage, user: string, key: string): Promise<VisibleFileJson> {
  const json = await storage.getJson(fileSections.files, key);
  const fields = json === undefined ? undefined : checkedFields(storage, key, json);
  return { json: json as string, version: fields?.version as number, role: await visibleRole(storage, user, key, fields) };
}

type CheckedFields = Pick<FileRecord, 'key' | 'owner' | 'parents' | 'deleted' | 'version'>;

/**
 * The fields of the records of the files read last, with the JSON text they were decoded from,
 * per storage and key: a file read again unchanged (the app reopening a project, a client polling
 * it) is not decoded again, which was the largest cost of its read. The text is read from storage
 * on every request and an entry serves only an identical one, so it is never stale, on one
 * instance or several. Bounded: texts of at most 8 KiB, 1 MiB of them in all (about 2,000 small
 * records), oldest out first.
 */
const decodedFiles = new WeakMap<Storage, { entries: Map<string, { json: string; fields: CheckedFields }>; length: number }>();
const maxKeptText = 8 * 1024;
const maxKeptTexts = 1024 * 1024;

function checkedFields(storage: Storage, key: string, json: string): CheckedFields {
  let kept = decodedFiles.get(storage);
  if (!kept) decodedFiles.set(storage, (kept = { entries: new Map(), length: 0 }));
  const entry = kept.entries.get(key);
  if (entry?.json === json) return entry.fields;
  const { owner, parents, deleted, version } = JSON.parse(json) as FileRecord;
  const fields = { key, owner, parents, deleted, version };
  if (entry) forget(kept, key, entry.json);
  if (json.length <= maxKeptText) {
    while (kept.length + json.length > maxKeptTexts) {
      const [oldest, { json: text }] = kept.entries.entries().next().value as [string, { json: string }];
      forget(kept, oldest, text);
    }
    kept.entries.set(key, { json, fields });
    kept.length += json.length;
  }
  return fields;
}

function forget(kept: { entries: Map<string, unknown>; length: number }, key: string, json: string): void {
  kept.entries.delete(key);
  kept.length -= json.length;
}

/** The user's role on a file that is live and visible to them; else the 404 of `readVisibleFile`. */
async function visibleRole(storage: Storage, user: string, key: string, record: CheckedFields | undefined): Promise<Role> {
  if (!record || record.deleted) throw notFound(key);
  // The owner's role needs no read: no promise of `roleOfRecord` on the most common request.
  const role = record.owner === user ? 'owner' : await roleOfRecord(storage, user, record);
  if (!role) throw notFound(key);
  return role;
}

export function requireRole(file: VisibleFile, needed: Role, action: string): void {
  if (!atLeast(file.role, needed)) {
    const who = needed === 'owner' ? 'an owner' : `a ${needed} or above`;
    throw new StoreError('forbidden_role', `Only ${who} may ${action} this file; you are a ${file.role}.`);
  }
}

/** `If-Match` (when sent) must name the current version: else 412 with the current one. */
export function checkVersion(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const given = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (given.includes(etagOf(version))) return;
  throw new StoreError('version_conflict', 'The file changed since you read it; read it again and retry.', { extra: { version } });
}

export const etagOf = (version: number) => `"${version}"`;

/** The three live listing index entries of a file: by key, by kind, by update time. */
export function liveIndexKeys(record: FileRecord): [string, string][] {
  const parentId = parentIdOf(record);
  return [
    [fileSections.children, `${parentId}${SEP}${record.key}`],
    [fileSections.childrenByKind, `${parentId}${SEP}${record.kind}${SEP}${record.key}`],
    [fileSections.childrenByUpdated, `${parentId}${SEP}${pad(record.updated)}${SEP}${record.key}`],
  ];
}

export const childEntryOf = (record: FileRecord): ChildEntry => ({
  kind: record.kind,
  name: record.info.name,
  ...(record.info.description !== undefined ? { description: record.info.description } : {}),
});

/** Stages the listing and search entries of a live file (its placement names the owners the search indexes it for). */
export function putListed(m: Mutation, record: FileRecord, placement: Placement): void {
  const entry = childEntryOf(record);
  for (const [section, key] of liveIndexKeys(record)) m.put(section, key, entry);
  putSearchTerms(m, record, placement);
}

export function deleteListed(m: Mutation, record: FileRecord, placement: Placement): void {
  for (const [section, key] of liveIndexKeys(record)) m.del(section, key);
  deleteSearchTerms(m, record, placement);
}

export const filePaths = (key: string) => ['/files', `/files/${key}`];
export const parentOf = (record: FileRecord) => record.parents.at(-1);

/** Stages a new record with its listing entries. */
export function putRecord(m: Mutation, record: FileRecord, placement: Placement): void {
  m.put(fileSections.files, record.key, record);
  putListed(m, record, placement);
}

const sameEntry = (a: ChildEntry, b: ChildEntry) => a.kind === b.kind && a.name === b.name && a.description === b.description;

/**
 * Stages a changed version of a live file: the record, and of its listing and search entries only
 * those that differ from `previous`'s (a change of name rewrites the entries that carry it, a new
 * `updated` moves the by-update entry, the rest stay as they are).
 */
export async function replaceRecord(m: Mutation, storage: StorageReader, record: FileRecord, previous: FileRecord): Promise<void> {
  m.put(fileSections.files, record.key, record);
  const entry = childEntryOf(record);
  const entryChanged = !sameEntry(childEntryOf(previous), entry);
  const before = liveIndexKeys(previous);
  liveIndexKeys(record).forEach(([section, key], i) => {
    const old = before[i][1];
    if (key !== old) m.del(section, old);
    if (key !== old || entryChanged) m.put(section, key, entry);
  });
  await replaceSearchTerms(m, previous, record, () => placementOf(storage, record));
}

/** A file's metadata with server fields set: the input's own fields, then the server's. */
function newRecord(input: FileInput, key: string, owner: string, parents: string[], now: number): FileRecord {
  const client = Object.fromEntries(Object.entries(input).filter(([field]) => !protectedFileFields.has(field)));
  return withFields(client, {
    info: input.info,
    key,
    kind: input.kind,
    owner,
    parents,
    created: now,
    updated: now,
    lastModified: { user: owner, time: now },
    version: 1,
  });
}

/**
 * Whether a key was ever used for a file (in trash or not, or deleted for good: see
 * file-records.ts) or for history that a file with this key would show to its readers.
 */
export async function keyUsed(storage: Storage, key: string): Promise<boolean> {
  const [file, retired, attached] = await Promise.all([storage.get(fileSections.files, key), storage.get(fileSections.retiredKeys, key), hasAttachments(storage, key)]);
  return file !== undefined || retired !== undefined || attached;
}

/**
 * Where a new file in `parent` (the caller's root when absent) goes: the parent must be a live
 * space the caller may write to.
 */
export async function placementOfNewFile(storage: Storage, user: string, parent: string | undefined): Promise<Placement> {
  if (parent === undefined) return rootPlacement;
  const record = await storage.get<FileRecord>(fileSections.files, parent);
  const role = record && !record.deleted ? await roleOfRecord(storage, user, record) : undefined;
  if (!record || !role) throw new StoreError('parent_not_found', `There is no space ${parent}.`);
  if (record.kind !== SPACE_KIND) throw new StoreError('parent_not_space', `${parent} is a ${record.kind}; only spaces contain files.`);
  requireRole({ record, role }, 'writer', 'add files to');
  return placementIn(record, await placementOf(storage, record));
}

/**
 * Creates a file (and, when `media` is given, its contents) in one batch. The parent must be a
 * live space the user may write to; a client key must never have been used, trash included.
 */
export async function createFile(
  store: Store,
  user: string,
  options: { parent?: string; input: FileInput; media?: { value: unknown } },
  limits: DocumentLimits,
): Promise<FileRecord> {
  if (options.media) checkFileContents(options.input.kind, options.media.value);
  return store.mutate(async (m) => {
    const placement = await placementOfNewFile(store.storage, user, options.parent);
    const key = options.input.key;
    if (key !== undefined && (await keyUsed(store.storage, key))) {
      throw new StoreError('key_conflict', `The key ${key} is taken: a file has or had it, or history is filed under it. Choose another.`);
    }
    const record = stageNewFile(m, { ...options, owner: user, placement }, store.secrets);
    checkSize(record, limits.maxBytes, 'A file’s metadata');
    return record;
  });
}

/**
 * Stages a new file, its listing entries, its contents (secret fields sealed with `secrets`) and
 * its `created` change, checking nothing: `createFile` checks the parent and the key first (bulk
 * loaders call this directly).
 */
export function stageNewFile(m: Mutation, file: { input: FileInput; owner: string; placement: Placement; media?: { value: unknown } }, secrets?: Secrets): FileRecord {
  const record = newRecord(file.input, file.input.key ?? randomUUID(), file.owner, file.placement.parents, m.now);
  putRecord(m, record, file.placement);
  if (file.media) {
    // Without the store's secrets, a secret value is refused (`secrets_locked`), never kept in clear.
    const value = sealSecretFields(secrets ?? new Secrets(undefined, undefined), m, record.key, record.kind, file.media.value, new Map()).document;
    const media: MediaRecord = { value, version: 1, updated: m.now };
    m.put(fileSections.media, record.key, media);
  }
  m.change({ operation: 'created', kind: record.kind, id: record.key, parent: parentOf(record), data: record, paths: filePaths(record.key), visibility: { file: record.key } });
  return record;
}

/** Applies a metadata patch (writer and above), honouring `If-Match`. */
export async function patchFile(
  store: Store,
  user: string,
  key: string,
  request: PatchRequest,
  options: { ifMatch?: string } & DocumentLimits,
): Promise<{ record: FileRecord; revert: unknown[] }> {
  return store.mutate(async (m) => {
    const file = await readVisibleFile(store.storage, user, key);
    requireRole(file, 'writer', 'edit');
    checkVersion(options.ifMatch, file.record.version);
    const { document, revert } = applyJsonPatch(file.record, request.patch, { protectedFields: protectedFileFields, maxDepth: options.maxDepth });
    // What must still hold after a metadata patch: the rest of the record is the client's or the server's.
    const valid = infoSchema.safeParse(document.info);
    if (!valid.success) {
      throw new StoreError('invalid_patch', 'The patched file would not be valid.', {
        errors: valid.error.issues.map((issue) => ({ path: ['info', ...issue.path].map(String).join('.'), message: issue.message })),
      });
    }
    checkSize(document, options.maxBytes, 'A file’s metadata');
    const record = touched(document, user, m.now);
    await replaceRecord(m, store.storage, record, file.record);
    m.change({
      operation: 'patch', kind: record.kind, id: key, parent: parentOf(record),
      data: { patch: request.patch, revert, app: request.app, appVersion: request.appVersion, version: record.version },
      paths: filePaths(key), visibility: { file: key },
    });
    return { record, revert };
  });
}

/** The record after a change by `user`: newer `updated`, `lastModified` and version. */
export function touched(record: FileRecord, user: string, now: number): FileRecord {
  return withFields(record, { updated: now, lastModified: { user, time: now }, version: record.version + 1 });
}

/** Reads many files at once; missing, trashed and not-visible ones come back as `null`. */
export async function readFiles(storage: Storage, user: string, keys: string[]): Promise<(FileRecord | null)[]> {
  const records = await storage.getMany<FileRecord>(fileSections.files, keys);
  return Promise.all(
    records.map(async (record) => (record && !record.deleted && (await roleOfRecord(storage, user, record)) ? record : null)),
  );
}

export interface ListFilter {
  /** A space the caller can read; the caller's root when absent (with `query`, every file the caller can read). */
  parent?: string;
  kind?: string;
  /** Words of the name or description (see search-terms.ts). */
  query?: string;
  /** Only files updated after this time (ms). */
  since?: number;
}

/** How many index entries one page may read while leaving out other kinds (`since` with `kind`). */
const SCAN_BUDGET = 2000;

/**
 * One page of a space's children (or the caller's root), reading the index that fits the filter:
 * by update time for `since`, by kind for `kind`, by key otherwise. With `query` it is a search
 * (see file-search.ts): of the parent's children, or of every file the caller can read.
 */
export async function listFiles(
  storage: Storage,
  user: string,
  filter: ListFilter,
  page: PageRequest,
): Promise<Page<FileRecord>> {
  const parentCheck = filter.parent === undefined ? undefined : readVisibleFile(storage, user, filter.parent);
  if (filter.query !== undefined) {
    const [result] = await Promise.all([searchFiles(storage, user, { ...filter, query: filter.query }, page), parentCheck]);
    return result;
  }
  const parentId = filter.parent ?? rootOf(user);
  let index: string;
  let range: KeyRange;
  if (filter.since !== undefined) {
    index = fileSections.childrenByUpdated;
    range = { gte: `${parentId}${SEP}${pad(Math.floor(filter.since) + 1)}`, lt: `${parentId}${SEP_END}` };
  } else if (filter.kind !== undefined) {
    index = fileSections.childrenByKind;
    range = below(`${parentId}${SEP}${filter.kind}`);
  } else {
    index = fileSections.children;
    range = below(parentId);
  }
  // Only `since` with `kind` leaves index entries out (other kinds), within `SCAN_BUDGET`.
  const selectRecords = async (chunk: [string, ChildEntry][]) => {
    const keys = chunk.map(([indexKey, entry]) => (filter.kind === undefined || entry.kind === filter.kind ? indexKey.slice(indexKey.lastIndexOf(SEP) + 1) : undefined));
    const records = await storage.getMany<FileRecord>(fileSections.files, keys.filter((key): key is string => key !== undefined));
    let next = 0;
    return keys.map((key) => (key === undefined ? undefined : (records[next++] ?? undefined)));
  };
  // The parent's visibility is checked while the page is read: one storage round trip less.
  const [result] = await Promise.all([readPage(storage, index, range, { ...page, budget: SCAN_BUDGET }, selectRecords), parentCheck]);
  return result;
}

/** The ancestors the caller can see, root-most first, then the file itself. */
export async function breadcrumbs(storage: Storage, user: string, key: string): Promise<{ key: string; kind: string; name: string }[]> {
  const file = await readVisibleFile(storage, user, key);
  const ancestors = await storage.getMany<FileRecord>(fileSections.files, file.record.parents);
  const chain: FileRecord[] = [];
  for (const ancestor of ancestors) {
    // Roles inherit downwards: once one ancestor is visible, all below it are.
    if (ancestor && (chain.length || (await roleOfRecord(storage, user, ancestor)))) chain.push(ancestor);
  }
  chain.push(file.record);
  return chain.map((record) => ({ key: record.key, kind: record.kind, name: record.info.name }));
}
