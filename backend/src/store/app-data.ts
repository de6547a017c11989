import { StoreError } from './store-error.js';
import { checkSize, type DocumentLimits } from './document-limits.js';
import { applyJsonPatch, type PatchRequest, type PatchOperation } from './json-patch.js';
import { readPage, type Page, type PageRequest } from './paging.js';
import type { Storage } from './storage.js';
import type { Mutation, Store } from './store.js';
import { sortableTime, timeOrderedKey } from './time-keys.js';
import { withFields } from './with-fields.js';

/**
 * The app's own data: projects and requests that one app keeps for one user, synced by clients
 * with `since`. Every key below starts with the scope `<user>\0<appId>\0<collection>\0`, so a user
 * or an app can only ever reach its own records.
 *
 * | section | key (after the scope) | value |
 * |---|---|---|
 * | `app-records` | record key | `AppRecord` (deleted ones stay as tombstones) |
 * | `app-records-live` | record key | 1 (live records: the plain list, in key order, which is creation order for the store's keys) |
 * | `app-records-by-updated` | `<updated, sortable>\0<key>` | key (every record: the `since` list) |
 */

export const appCollections = ['projects', 'requests'] as const;
export type AppCollection = (typeof appCollections)[number];

/** The change `kind` of each collection's records (the app's own kinds of net-store). */
export const appRecordKinds: Record<AppCollection, string> = { projects: 'Core#AppProject', requests: 'Core#AppRequest' };

/** Fields the store maintains: a client never sets or patches them. */
export const protectedAppFields: ReadonlySet<string> = new Set(['key', 'created', 'updated', 'deleted']);

export interface AppRecordInput {
  /** A client key (URL-safe, checked at the edge), kept exactly; the store makes a time-ordered one otherwise. */
  key?: string;
  info: { name: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface AppRecord extends AppRecordInput {
  key: string;
  created: number;
  /** Changes on every write, so that `since` sync never misses one. */
  updated: number;
  /** A tombstone: gone for reads and plain lists, listed by `since` so syncing clients learn of it. */
  deleted?: true;
}

export interface AppScope {
  user: string;
  appId: string;
  collection: AppCollection;
}

export const appDataSections = { records: 'app-records', live: 'app-records-live', byUpdated: 'app-records-by-updated' } as const;
/** The key counter (keys never reuse one), in `meta`. */
const COUNTER_KEY = 'app-data:counter';

const prefixOf = (scope: AppScope) => `${scope.user}\0${scope.appId}\0${scope.collection}\0`;
const rangeOf = (prefix: string, from = prefix) => ({ gte: from, lt: `${prefix.slice(0, -1)}\x01` });
export const appUpdatedKey = (prefix: string, record: AppRecord) => `${prefix}${sortableTime(record.updated)}\0${record.key}`;
/** The record key an index key (live or by-updated) names. */
const recordKeyOf = (indexKey: string) => indexKey.slice(indexKey.lastIndexOf('\0') + 1);

/**
 * Reads a page of the scope's records through one of its indexes. Positions are relative to the
 * scope: the page resumes at `prefix + after` and its `last` leaves the prefix out, and records are
 * read as `prefix + record key`, so that a position can neither reveal nor reach another scope.
 */
async function readScopePage<T>(
  storage: Storage,
  prefix: string,
  index: string,
  range: { gte: string; lt: string },
  page: PageRequest & { budget?: number },
  keep: (record: AppRecord) => boolean,
): Promise<Page<AppRecord>> {
  const result = await readPage<T, AppRecord>(storage, index, range, { ...page, after: page.after === undefined ? undefined : prefix + page.after }, async (chunk) => {
    const records = await storage.getMany<AppRecord>(appDataSections.records, chunk.map(([indexKey]) => prefix + recordKeyOf(indexKey)));
    return records.map((record) => (record && keep(record) ? record : undefined));
  });
  return result.last === undefined ? result : { ...result, last: result.last.slice(prefix.length) };
}

const notFound = (key: string) => new StoreError('app_record_not_found', `There is no record ${key} here.`, { extra: { key } });

/** Drops fields only the store sets, whatever the client sent. */
function clientFields(input: AppRecordInput): AppRecordInput {
  const copy = { ...input };
  for (const field of protectedAppFields) delete copy[field];
  return copy;
}

/** Stages a record and its indexes; `previous` is the stored version it replaces. */
function putRecord(m: Mutation, prefix: string, record: AppRecord, previous?: AppRecord): void {
  m.put(appDataSections.records, prefix + record.key, record);
  if (record.deleted) m.del(appDataSections.live, prefix + record.key);
  else m.put(appDataSections.live, prefix + record.key, 1);
  if (previous) m.del(appDataSections.byUpdated, appUpdatedKey(prefix, previous));
  m.put(appDataSections.byUpdated, appUpdatedKey(prefix, record), record.key);
}

/** The next `updated` of a record: the mutation's time, but always later than the last one. */
const nextUpdated = (m: Mutation, previous: AppRecord) => Math.max(m.now, previous.updated + 1);

function change(m: Mutation, scope: AppScope, operation: 'created' | 'patch' | 'deleted', key: string, data?: unknown): void {
  m.change({
    operation,
    kind: appRecordKinds[scope.collection],
    id: key,
    ...(data === undefined ? {} : { data }),
    paths: [`/app/${scope.appId}/${scope.collection}`],
    visibility: { user: scope.user },
  });
}

const keyConflict = (key: string) =>
  new StoreError('key_conflict', `The key ${key} is taken by a record here (deleted ones included). Choose another.`, { extra: { key } });

/**
 * Client keys must be new to the scope, tombstones included (a syncing client would take the new
 * record for the deleted one), and unique within the batch.
 */
async function checkClientKeys(storage: Storage, prefix: string, inputs: AppRecordInput[]): Promise<void> {
  const keys = inputs.flatMap((input) => (input.key === undefined ? [] : [input.key]));
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw keyConflict(key);
    seen.add(key);
  }
  const stored = await storage.getMany<AppRecord>(appDataSections.records, keys.map((key) => prefix + key));
  const taken = stored.findIndex((record) => record !== undefined);
  if (taken >= 0) throw keyConflict(keys[taken]);
}

/** Stores new records in one batch and returns them in order; a client's `key` is kept as given. */
export function createAppRecords(store: Store, scope: AppScope, inputs: AppRecordInput[]): Promise<AppRecord[]> {
  const prefix = prefixOf(scope);
  return store.mutate(async (m) => {
    await checkClientKeys(store.storage, prefix, inputs);
    const counter = (await store.storage.get<number>('meta', COUNTER_KEY)) ?? 0;
    m.put('meta', COUNTER_KEY, counter + inputs.length);
    return inputs.map((input, index) => {
      const key = input.key ?? timeOrderedKey(m.now, counter + index + 1);
      const record: AppRecord = withFields(clientFields(input), { key, created: m.now, updated: m.now });
      putRecord(m, prefix, record);
      change(m, scope, 'created', record.key, record);
      return record;
    });
  });
}

/** Records by key, `null` where there is none or it is deleted. */
export async function readAppRecords(storage: Storage, scope: AppScope, keys: string[]): Promise<(AppRecord | null)[]> {
  const prefix = prefixOf(scope);
  const records = await storage.getMany<AppRecord>(appDataSections.records, keys.map((key) => prefix + key));
  return records.map((record) => (record && !record.deleted ? record : null));
}

/** One live record, or 404 `app_record_not_found`. */
export async function readAppRecord(storage: Storage, scope: AppScope, key: string): Promise<AppRecord> {
  const [record] = await readAppRecords(storage, scope, [key]);
  if (!record) throw notFound(key);
  return record;
}

/** Reads the stored records (tombstones included) for a batch; any missing key fails it. */
async function storedRecords(storage: Storage, prefix: string, keys: string[]): Promise<AppRecord[]> {
  const unique = [...new Set(keys)];
  const records = await storage.getMany<AppRecord>(appDataSections.records, unique.map((key) => prefix + key));
  return records.map((record, index) => {
    if (!record) throw notFound(unique[index]);
    return record;
  });
}

/** Marks records deleted, all or none; deleting a deleted record changes nothing. */
export function deleteAppRecords(store: Store, scope: AppScope, keys: string[]): Promise<void> {
  const prefix = prefixOf(scope);
  return store.mutate(async (m) => {
    for (const record of await storedRecords(store.storage, prefix, keys)) {
      if (record.deleted) continue;
      putRecord(m, prefix, withFields(record, { deleted: true, updated: nextUpdated(m, record) }), record);
      change(m, scope, 'deleted', record.key);
    }
  });
}

/** Restores deleted records, all or none, and returns them; a live record is returned as it is. */
export function undeleteAppRecords(store: Store, scope: AppScope, keys: string[]): Promise<AppRecord[]> {
  const prefix = prefixOf(scope);
  return store.mutate(async (m) =>
    (await storedRecords(store.storage, prefix, keys)).map((record) => {
      if (!record.deleted) return record;
      const { deleted: _, ...rest } = record;
      const restored: AppRecord = withFields(rest, { updated: nextUpdated(m, record) });
      putRecord(m, prefix, restored, record);
      change(m, scope, 'created', restored.key, restored);
      return restored;
    }),
  );
}

/**
 * Applies an RFC 6902 patch to a live record (server-owned fields are out of reach) and returns
 * it with `revert`, the patch that undoes the client's operations.
 */
export function patchAppRecord(
  store: Store,
  scope: AppScope,
  key: string,
  request: PatchRequest,
  limits: DocumentLimits,
): Promise<{ record: AppRecord; revert: PatchOperation[] }> {
  const prefix = prefixOf(scope);
  return store.mutate(async (m) => {
    const previous = await readAppRecord(store.storage, scope, key);
    const { document, revert } = applyJsonPatch(previous, request.patch, { protectedFields: protectedAppFields, maxDepth: limits.maxDepth });
    if (typeof document?.info?.name !== 'string') {
      throw new StoreError('invalid_patch', 'A record must keep info.name, a string.');
    }
    const record: AppRecord = { ...document, updated: nextUpdated(m, previous) };
    checkSize(record, limits.maxBytes, 'An app record');
    putRecord(m, prefix, record, previous);
    change(m, scope, 'patch', key, { ...request, revert });
    return { record, revert };
  });
}

/**
 * One page of records. Without `since`: the live records in creation order. With `since`: every
 * record updated at or after that time, tombstones included, in `updated` order, so a client that
 * keeps the latest `updated` it saw and asks from there never misses a change.
 */
export async function listAppRecords(
  storage: Storage,
  scope: AppScope,
  since: number | undefined,
  page: PageRequest,
): Promise<Page<AppRecord>> {
  const prefix = prefixOf(scope);
  const all = () => true;
  return since === undefined
    ? readScopePage(storage, prefix, appDataSections.live, rangeOf(prefix), page, all)
    : readScopePage(storage, prefix, appDataSections.byUpdated, rangeOf(prefix, prefix + sortableTime(since)), page, all);
}

/** Reads at most this many records per query request; a sparse match returns a short page with a cursor. */
export const APP_QUERY_SCAN_BUDGET = 2000;

/** The text a query searches: name and description, and a request's URL and method. */
function searchedText(record: AppRecord): string {
  const expects = record.expects as { url?: unknown; method?: unknown } | undefined;
  return [record.info.name, record.info.description, expects?.url, expects?.method]
    .filter((value): value is string => typeof value === 'string')
    .join('\n')
    .toLowerCase();
}

/** One page of live records whose name, description or request URL/method contain `text` (case-insensitive). */
export async function queryAppRecords(
  storage: Storage,
  scope: AppScope,
  text: string,
  page: PageRequest,
): Promise<Page<AppRecord>> {
  const prefix = prefixOf(scope);
  const needle = text.toLowerCase();
  return readScopePage(storage, prefix, appDataSections.live, rangeOf(prefix), { ...page, budget: APP_QUERY_SCAN_BUDGET }, (record) =>
    searchedText(record).includes(needle),
  );
}
