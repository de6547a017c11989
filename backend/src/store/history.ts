import { StoreError } from './store-error.js';
import { atLeast, canRead, roleOf } from './access.js';
import type { ChangeInput } from './changes.js';
import { below, fileSections } from './file-records.js';
import { historyMaskingRules, maskHistoryEntry } from './history-masking.js';
import { readPage, readPageFrom, type Page, type PageRequest } from './paging.js';
import { addPostings, postingsSearch, removePostings, type Posting, type PostingScope } from './postings.js';
import { matchesLongWords, termQueryOf, termsOf } from './search-terms.js';
import { stagingOf, type Storage, type WriteOp } from './storage.js';
import type { Mutation, Store } from './store.js';
import { sortableTime, timeOrderedKey } from './time-keys.js';
import { withFields } from './with-fields.js';

/**
 * The request history: every request a user sends, the highest-volume data of the store.
 *
 * Layout: `history` holds the entries by key, and the key starts with the entry's time, so that
 * section is also the store-wide age order that age retention prunes from. One index per list
 * type (`history-by-user|app|space|project|request`) maps `<scope>\0<entry key>` to what
 * visibility needs; iterating it backwards lists one scope newest first at the cost of the page,
 * and `history-by-user` forwards is one user's age order, which count retention prunes from.
 * `history-counts` holds each user's entry count, kept in the batch of every write. The key
 * counter lives in `meta` under `history`.
 *
 * Search: `history-postings-by-{scope}` holds, for each search term of an entry (see
 * search-terms.ts: words and word prefixes of its URL and method, whole words of its headers and
 * text bodies) under each scope it is listed in but `app` (whose search uses the user's index,
 * where the app is one more term: see `appTerm`), one record per run of entries written together
 * listing those that hold the term; `history-runs` holds the runs (see postings.ts). Written and
 * removed in the entries' batch like the scope indexes; a query joins its terms' postings of one
 * scope, newest first.
 */

export const HISTORY_KIND = 'Core#HttpHistory';

export const historyScopes = ['user', 'space', 'project', 'request', 'app'] as const;
export type HistoryScope = (typeof historyScopes)[number];

/** What a client sends: the request log, the app that sent it and what it was attached to. */
export interface HistoryInput {
  /** The app that sent the request; core leaves it out for requests of a space. */
  app?: string;
  log: {
    request: { url: string; method?: string; headers?: string; payload?: unknown; startTime: number; [field: string]: unknown };
    /** A response, or for a failed request an error response: `status` 0 with `error`. */
    response?: {
      status: number;
      statusText?: string;
      headers?: string;
      payload?: unknown;
      timings?: Record<string, unknown>;
      loadingTime?: number;
      error?: string | { message: string; [field: string]: unknown };
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  /** When the request was made; the store's time when absent. */
  created?: number;
  space?: string;
  project?: string;
  request?: string;
  [field: string]: unknown;
}

export interface HistoryEntry extends HistoryInput {
  kind: typeof HISTORY_KIND;
  key: string;
  user: string;
  created: number;
}

/** What a caller may see and remove besides their own entries: the spaces and projects they can read or write. */
export interface HistoryAccess {
  user: string;
  canRead(fileKey: string): Promise<boolean>;
  canWrite(fileKey: string): Promise<boolean>;
}

/** A caller's access to history through the files' roles (see access.ts). */
export function historyAccessOf(storage: Storage, user: string): HistoryAccess {
  return {
    user,
    canRead: (fileKey) => canRead(storage, user, fileKey),
    canWrite: async (fileKey) => atLeast(await roleOf(storage, user, fileKey), 'writer'),
  };
}

export interface HistoryRetention {
  /** Keep at most this many entries of each user; 0 keeps any number. A user's writes never evict another's entries. */
  maxEntriesPerUser: number;
  /** Remove entries older than this; 0 keeps them whatever their age. */
  maxAgeMs: number;
}

export const HISTORY_ENTRIES = 'history';
export const historyIndexOf = (scope: HistoryScope) => `history-by-${scope}`;
export const historyPostingsOf = (scope: HistoryScope) => `history-postings-by-${scope}`;
/** The runs of entries the postings refer to (see postings.ts). */
export const HISTORY_RUNS = 'history-runs';
/** Entries per user: user key -> count. */
export const HISTORY_COUNTS = 'history-counts';
/** The key counter, kept in `meta` and updated in the batch of every write. */
export const HISTORY_STATE_KEY = 'history';

export interface HistoryState {
  /** The last key counter handed out (keys never reuse one). */
  counter: number;
}

/** An index value: enough to decide visibility without reading the entry. */
export interface IndexValue {
  user: string;
  space?: string;
  project?: string;
}

/** What every index entry of `entry` holds. */
export const historyIndexValue = (entry: HistoryEntry): IndexValue => ({ user: entry.user, space: entry.space, project: entry.project });

/** Index keys end in `\0<entry key>`; scope ids cannot contain control characters. */
function scopePrefix(scope: HistoryScope, user: string, id: string | undefined): string {
  if (scope === 'user') return `${user}\0`;
  if (scope === 'app') return `${user}\0${id}\0`;
  return `${id}\0`;
}

/** The scopes an entry is listed in, with their key prefixes. */
function scopesOf(entry: HistoryEntry): [HistoryScope, string][] {
  const scopes: [HistoryScope, string][] = [['user', scopePrefix('user', entry.user, undefined)]];
  if (entry.app) scopes.push(['app', scopePrefix('app', entry.user, entry.app)]);
  for (const scope of ['space', 'project', 'request'] as const) {
    const id = entry[scope];
    if (id) scopes.push([scope, scopePrefix(scope, entry.user, id)]);
  }
  return scopes;
}

/**
 * The app an entry came from, as one more term of the user's search index: an app's search is
 * the user's joined with it, where a word index per app would double the keys of every write.
 * Words are letters and digits only, so no word is taken for it.
 */
const appTerm = (app: string) => `\u0002${app}`;

/** The search terms of an entry in each scope it is listed in but `app` (see `appTerm`). */
export function historyTerms(entry: HistoryEntry): PostingScope[] {
  const { request } = entry.log;
  // The URL and method by word prefixes, the rest by whole words: headers and bodies hold many
  // more words, and each prefix is one more term in every run that holds it.
  const terms = termsOf([request.url, request.method ?? ''], searchedTexts(entry).slice(2));
  return scopesOf(entry)
    .filter(([scope]) => scope !== 'app')
    .map(([scope, prefix]) => ({ section: historyPostingsOf(scope), scope: prefix, terms: scope === 'user' && entry.app ? [...terms, appTerm(entry.app)] : terms }));
}

/** What an entry brings to the search index. */
const postingOf = (entry: HistoryEntry): Posting => ({ key: entry.key, scopes: historyTerms(entry) });

/** The list index keys of an entry: one per scope. */
export function historyIndexKeys(entry: HistoryEntry): [string, string][] {
  return scopesOf(entry).map(([scope, prefix]) => [historyIndexOf(scope), prefix + entry.key]);
}

/** Bodies are searched when they are text: a string payload with a textual content type, or none. */
const TEXT_TYPE = /^\s*content-type\s*:\s*(text\/|[^\n]*(json|xml|javascript|yaml|x-www-form-urlencoded|graphql))/im;
const NO_TYPE = /^\s*content-type\s*:/im;

function textBody(headers: string, payload: unknown): string[] {
  if (typeof payload !== 'string') return [];
  return TEXT_TYPE.test(headers) || !NO_TYPE.test(headers) ? [payload.slice(0, 64 * 1024)] : [];
}

/** What a history query searches: the URL, method (first), headers and text bodies of the request and response. */
function searchedTexts(entry: Pick<HistoryEntry, 'log'>): string[] {
  const { request, response } = entry.log;
  const texts = [request.url, request.method ?? '', request.headers, ...textBody(request.headers ?? '', request.payload)];
  if (response) texts.push(response.headers, ...textBody(response.headers ?? '', response.payload));
  return texts.filter((text): text is string => typeof text === 'string');
}

async function readState(storage: Storage): Promise<HistoryState> {
  return (await storage.get<HistoryState>('meta', HISTORY_STATE_KEY)) ?? { counter: 0 };
}

async function countOf(storage: Storage, user: string): Promise<number> {
  return (await storage.get<number>(HISTORY_COUNTS, user)) ?? 0;
}

/** Adds `added` to each user's count, in the mutation's batch (mutations run one at a time). */
async function addToCounts(m: Mutation, storage: Storage, added: Map<string, number>): Promise<void> {
  for (const [user, delta] of added) {
    const count = (await countOf(storage, user)) + delta;
    if (count > 0) m.put(HISTORY_COUNTS, user, count);
    else m.del(HISTORY_COUNTS, user);
  }
}

/**
 * Builds `history-counts` from the user index, for data written before it existed: one pass in
 * key order, where each user's keys are contiguous, writing each user's count as it completes.
 */
export async function countHistoryPerUser(storage: Storage): Promise<void> {
  let user: string | undefined;
  let count = 0;
  const flush = () => (user === undefined ? Promise.resolve() : storage.write([{ type: 'put', section: HISTORY_COUNTS, key: user, value: count }]));
  for await (const indexKey of storage.keys(historyIndexOf('user'))) {
    const owner = indexKey.slice(0, indexKey.indexOf('\0'));
    if (owner !== user) {
      await flush();
      [user, count] = [owner, 0];
    }
    count += 1;
  }
  await flush();
}

/** The sections of the term-per-entry search index of schemas 4 to 6, which migration 7 removes. */
export const oldHistoryWordIndexes = ['user', 'space', 'project', 'request'].map((scope) => `history-words-by-${scope}`);

/**
 * Builds the search index from the entries, `batch` entries per run and write, then removes the
 * index it replaces (migration 7). Runs again from the start if cut short: what is already
 * indexed is left as it is.
 */
export async function indexHistorySearch(storage: Storage, batch = 1000): Promise<void> {
  let after = '';
  for (;;) {
    const entries: HistoryEntry[] = [];
    for await (const [key, entry] of storage.entries<HistoryEntry>(HISTORY_ENTRIES, { gt: after, limit: batch })) {
      entries.push(entry);
      after = key;
    }
    const ops: WriteOp[] = [];
    await addPostings(stagingOf(ops), storage, HISTORY_RUNS, entries.map(postingOf));
    await storage.write(ops);
    if (entries.length < batch) break;
  }
  for (const section of oldHistoryWordIndexes) await storage.clear(section);
}

/** The space and project an entry is attached to: their readers see the entry too. */
function attachedFiles(entry: { space?: string; project?: string }): string[] {
  return [entry.space, entry.project].filter((id): id is string => !!id);
}

/**
 * Who hears of an entry's changes: as with reading it, its user and the readers of `attachedFiles`.
 * A `created` change carries the entry, as a file's carries its record; the feed reads it from the
 * entry's own record, since entries never change once written.
 */
function changeOf(operation: 'created' | 'deleted', entry: HistoryEntry): ChangeInput {
  const files = attachedFiles(entry);
  return {
    operation, kind: HISTORY_KIND, id: entry.key, ...(operation === 'created' && { data: entry, dataSection: HISTORY_ENTRIES }), paths: ['/history'],
    visibility: files.length ? { user: entry.user, files } : { user: entry.user },
  };
}

/** Removes entries and their index keys and takes them off their users' counts, in the mutation's batch. */
async function removeEntries(m: Mutation, storage: Storage, entries: HistoryEntry[]): Promise<void> {
  const removed = new Map<string, number>();
  await removePostings(m, storage, HISTORY_RUNS, entries.map(postingOf));
  for (const entry of entries) {
    m.del(HISTORY_ENTRIES, entry.key);
    for (const [section, key] of historyIndexKeys(entry)) m.del(section, key);
    m.change(changeOf('deleted', entry));
    removed.set(entry.user, (removed.get(entry.user) ?? 0) - 1);
  }
  await addToCounts(m, storage, removed);
}

/** Visibility of an entry to one caller, answering each space or project once per request. */
function visibilityChecker(access: HistoryAccess): (entry: IndexValue) => Promise<boolean> {
  const answers = new Map<string, Promise<boolean>>();
  const readable = (fileKey: string) => {
    let answer = answers.get(fileKey);
    if (!answer) answers.set(fileKey, (answer = access.canRead(fileKey)));
    return answer;
  };
  return async (entry) =>
    entry.user === access.user || (!!entry.space && (await readable(entry.space))) || (!!entry.project && (await readable(entry.project)));
}

/**
 * Whether any entry is attached to this id as its space or project: a file created later with
 * this key must not take it (see `createFile`), or it would show those entries to its readers.
 */
export async function hasAttachments(storage: Storage, id: string): Promise<boolean> {
  for (const scope of ['space', 'project'] as const) {
    for await (const _attached of storage.keys(historyIndexOf(scope), { ...below(id), limit: 1 })) return true;
  }
  return false;
}

const notFound = (key: string) => new StoreError('history_entry_not_found', `There is no history entry ${key}.`, { extra: { key } });

/**
 * An entry may name a space or project only if the caller can read it when it is a file: the
 * attachment shows the entry to that file's readers. A reference to anything else (an app's own
 * project, a request) only files the entry under that id.
 */
async function checkAttachments(storage: Storage, access: HistoryAccess, inputs: HistoryInput[]): Promise<void> {
  const ids = new Set(inputs.flatMap(attachedFiles));
  for (const id of ids) {
    if ((await storage.get(fileSections.files, id)) && !(await access.canRead(id))) {
      throw new StoreError('file_not_found', `History cannot be attached to ${id}: there is no such space or project.`);
    }
  }
}

const scopeFields = ['app', 'space', 'project', 'request'] as const;

/** Core writes `""` for an id it does not have: the entry is stored without it. */
function withoutEmptyIds(input: HistoryInput): HistoryInput {
  if (scopeFields.every((field) => input[field] !== '')) return input;
  return Object.fromEntries(Object.entries(input).filter(([field, value]) => !(value === '' && (scopeFields as readonly string[]).includes(field)))) as HistoryInput;
}

export interface CreateHistoryOptions {
  /** Plaintext values (secret variables substituted into the request) masked wherever they occur in the entries. */
  secretValues?: readonly string[];
}

/**
 * Stores entries of the caller in one batch and returns them in order, masked by the store's
 * rules (see history-masking.ts) before anything of them is written: record, indexes, change.
 */
export async function createHistory(store: Store, access: HistoryAccess, given: HistoryInput[], options: CreateHistoryOptions = {}): Promise<HistoryEntry[]> {
  const { user } = access;
  const rules = await historyMaskingRules(store.storage);
  const inputs = given.map((input) => maskHistoryEntry(withoutEmptyIds(input), rules, options.secretValues));
  return store.mutate(async (m) => {
    // In the batch: no file can take an attached key between this check and the write.
    await checkAttachments(store.storage, access, inputs);
    const state = await readState(store.storage);
    const entries = inputs.map((input, index) => {
      const created = input.created ?? m.now;
      const entry: HistoryEntry = withFields(input, { kind: HISTORY_KIND, key: timeOrderedKey(created, state.counter + index + 1), user, created });
      const value = historyIndexValue(entry);
      m.put(HISTORY_ENTRIES, entry.key, entry);
      for (const [section, key] of historyIndexKeys(entry)) m.put(section, key, value);
      m.change(changeOf('created', entry));
      return entry;
    });
    await addPostings(m, store.storage, HISTORY_RUNS, entries.map(postingOf));
    m.put('meta', HISTORY_STATE_KEY, { counter: state.counter + inputs.length });
    await addToCounts(m, store.storage, new Map([[user, inputs.length]]));
    return entries;
  });
}

/** One entry the caller can see, or 404 `history_entry_not_found`. */
export async function readHistory(storage: Storage, access: HistoryAccess, key: string): Promise<HistoryEntry> {
  const entry = await storage.get<HistoryEntry>(HISTORY_ENTRIES, key);
  if (!entry || !(await visibilityChecker(access)(entry))) throw notFound(key);
  return entry;
}

/**
 * Removes entries in one batch, all or none. A caller removes their own entries, and others'
 * only with write access to the space or project they are attached to.
 */
export function deleteHistory(store: Store, access: HistoryAccess, keys: string[]): Promise<void> {
  return store.mutate(async (m) => {
    const unique = [...new Set(keys)];
    const entries = await store.storage.getMany<HistoryEntry>(HISTORY_ENTRIES, unique);
    const visible = visibilityChecker(access);
    for (const [index, entry] of entries.entries()) {
      if (!entry || !(await visible(entry))) throw notFound(unique[index]);
      const writable = entry.user === access.user || (!!entry.space && (await access.canWrite(entry.space))) || (!!entry.project && (await access.canWrite(entry.project)));
      if (!writable) throw new StoreError('forbidden_role', `Only its user or a writer of its space or project removes history entry ${entry.key}.`);
    }
    await removeEntries(m, store.storage, entries as HistoryEntry[]);
  });
}

export interface HistoryListQuery {
  type: HistoryScope;
  /** The space, project, request or app; unused for `user` (always the caller). */
  id?: string;
  /** Words matched against the URL, method, headers and text bodies (see search-terms.ts). */
  query?: string;
  /** Only entries created at or after this time (ms). */
  since?: number;
}

/**
 * Reads indexes at most this many entries per list request when filtering by visibility (in
 * space, project and request lists, which hold everyone's entries), so that a sparse match returns
 * a short page with a cursor instead of scanning further.
 */
export const HISTORY_SCAN_BUDGET = 2000;

/**
 * One page of a scope's entries the caller can see, newest first. `user` and `app` lists read the
 * caller's own index; space, project and request lists hold everyone's entries and keep those the
 * caller may see (theirs, or attached to a space or project they can read).
 */
export async function listHistory(
  storage: Storage,
  access: HistoryAccess,
  list: HistoryListQuery,
  page: PageRequest,
): Promise<Page<HistoryEntry>> {
  const prefix = scopePrefix(list.type, access.user, list.id);
  const from = list.since === undefined ? '' : sortableTime(list.since);
  const visible = visibilityChecker(access);
  const budgeted = { ...page, budget: HISTORY_SCAN_BUDGET };
  if (list.query !== undefined) {
    const search = termQueryOf(list.query);
    if (!search) return { items: [] };
    // The scope's entries holding every term of the query, newest first.
    const [scope, scoped, terms] =
      list.type === 'app' ? (['user', scopePrefix('user', access.user, undefined), [...search.terms, appTerm(list.id ?? '')]] as const) : ([list.type, prefix, search.terms] as const);
    const source = postingsSearch(storage, HISTORY_RUNS, historyPostingsOf(scope), terms.map((term) => `${scoped}${term}\0`), from);
    return readPageFrom(source, budgeted, async (chunk) => {
      const entries = await storage.getMany<HistoryEntry>(HISTORY_ENTRIES, chunk.map(([key]) => key));
      return Promise.all(
        entries.map(async (entry) => (entry && (await visible(entry)) && matchesLongWords(search, () => searchedTexts(entry)) ? entry : undefined)),
      );
    });
  }
  const range = { gte: prefix + from, lt: `${prefix.slice(0, -1)}\x01`, reverse: true };
  return readPage<IndexValue, HistoryEntry>(storage, historyIndexOf(list.type), range, budgeted, async (chunk) => {
    const shown = await Promise.all(chunk.map(([, value]) => visible(value)));
    const keys = chunk.map(([indexKey]) => indexKey.slice(indexKey.lastIndexOf('\0') + 1));
    const entries = await storage.getMany<HistoryEntry>(HISTORY_ENTRIES, keys);
    return entries.map((entry, index) => (entry && shown[index] ? entry : undefined));
  });
}

/** Whether the oldest entry is older than `cutoff`, from one key. */
async function hasEntryBefore(storage: Storage, cutoff: string): Promise<boolean> {
  for await (const oldest of storage.keys(HISTORY_ENTRIES, { limit: 1 })) return oldest < cutoff;
  return false;
}

export interface PruneOptions {
  /** Only these users' counts are checked (those who just wrote); every user's when absent. */
  users?: Iterable<string>;
  /** Entries removed per batch, so that requests interleave with a long prune. */
  chunk?: number;
  /** Ends the prune between batches. */
  stopped?: () => boolean;
}

/** Runs `batch` until it removes less than a chunk or the prune is stopped; returns the total removed. */
async function inBatches(batch: () => Promise<number>, chunk: number, stopped: () => boolean): Promise<number> {
  let removed = 0;
  for (;;) {
    const count = await batch();
    removed += count;
    if (count < chunk || stopped()) return removed;
  }
}

/** Removes one user's oldest entries beyond `max`, reading only that user's index. */
async function pruneUser(store: Store, user: string, max: number, chunk: number, stopped: () => boolean): Promise<number> {
  // Checked before queueing a batch behind requests' writes: most writes leave their user within the limit.
  if ((await countOf(store.storage, user)) <= max) return 0;
  return inBatches(
    () =>
      store.mutate(async (m) => {
        const excess = Math.min((await countOf(store.storage, user)) - max, chunk);
        if (excess <= 0) return 0;
        const keys: string[] = [];
        for await (const indexKey of store.storage.keys(historyIndexOf('user'), { gt: `${user}\0`, lt: `${user}\x01`, limit: excess })) {
          keys.push(indexKey.slice(user.length + 1));
        }
        const entries = (await store.storage.getMany<HistoryEntry>(HISTORY_ENTRIES, keys)).filter((entry) => entry !== undefined);
        await removeEntries(m, store.storage, entries);
        return entries.length;
      }),
    chunk,
    stopped,
  );
}

/** The users with a count above `max`, a page at a time: reads the counts, not the entries. */
async function* usersOver(storage: Storage, max: number, page = 100): AsyncIterable<string> {
  let after: string | undefined;
  for (;;) {
    let read = 0;
    for await (const [user, count] of storage.entries<number>(HISTORY_COUNTS, { ...(after === undefined ? {} : { gt: after }), limit: page })) {
      [after, read] = [user, read + 1];
      if (count > max) yield user;
    }
    if (read < page) return;
  }
}

/**
 * Removes entries beyond the retention limits, at most `chunk` per batch: first every entry
 * older than the maximum age (store-wide, by time), then each user's oldest entries beyond the
 * per-user maximum, taken from that user's own entries only. Returns how many it removed.
 */
export async function pruneHistory(store: Store, retention: HistoryRetention, now: number, options: PruneOptions = {}): Promise<number> {
  const { chunk = 1000, stopped = () => false } = options;
  let removed = 0;
  const cutoff = retention.maxAgeMs ? sortableTime(now - retention.maxAgeMs) : undefined;
  if (cutoff && (await hasEntryBefore(store.storage, cutoff))) {
    removed += await inBatches(
      () =>
        store.mutate(async (m) => {
          const entries: HistoryEntry[] = [];
          for await (const [, entry] of store.storage.entries<HistoryEntry>(HISTORY_ENTRIES, { lt: cutoff, limit: chunk })) entries.push(entry);
          await removeEntries(m, store.storage, entries);
          return entries.length;
        }),
      chunk,
      stopped,
    );
  }
  const max = retention.maxEntriesPerUser;
  if (!max) return removed;
  for await (const user of options.users ?? usersOver(store.storage, max)) {
    if (stopped()) break;
    removed += await pruneUser(store, user, max, chunk, stopped);
  }
  return removed;
}

export interface HistoryRetentionTask {
  /** Checks the age and every user's count soon (coalesced); after a write only the writer's count is checked. */
  trigger(): void;
  /** Resolves when no prune is running. */
  idle(): Promise<void>;
  /** Stops triggering and waits for a running prune; call before closing the store. */
  stop(): Promise<void>;
}

/**
 * Enforces retention in the background: writes never wait for it, and a prune runs in small
 * batches that queue with requests' writes. One prune runs at a time; triggers during it make
 * it check again when done.
 */
export function startHistoryRetention(
  store: Store,
  retention: HistoryRetention,
  options: { onError(error: unknown): void; clock?: () => number; intervalMs?: number; firstRunDelayMs?: number },
): HistoryRetentionTask {
  const clock = options.clock ?? Date.now;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  // Writers since the last prune; every user's count is checked at start and on the timer.
  const writers = new Set<string>();
  let everyone = true;
  const run = async () => {
    do {
      again = false;
      const users = everyone ? undefined : [...writers];
      everyone = false;
      writers.clear();
      await pruneHistory(store, retention, clock(), { users, stopped: () => stopped });
    } while (again && !stopped);
  };
  const check = (users?: string[]) => {
    if (stopped || (!retention.maxEntriesPerUser && !retention.maxAgeMs)) return;
    if (users) for (const user of users) writers.add(user);
    else everyone = true;
    if (running) {
      again = true;
      return;
    }
    running = run()
      .catch(options.onError)
      .finally(() => (running = undefined));
  };
  const unsubscribe = store.onChanges((changes) => {
    const users = changes.flatMap((change) =>
      change.kind === HISTORY_KIND && change.operation === 'created' && 'user' in change.visibility ? [change.visibility.user] : [],
    );
    if (users.length) check(users);
  });
  const timer = setInterval(() => check(), options.intervalMs ?? 60 * 60 * 1000).unref();
  // The first check of every user may wait, so that it does not compete with the start-up.
  const firstRun = setTimeout(() => check(), options.firstRunDelayMs ?? 0).unref();
  return {
    trigger: () => check(),
    idle: async () => {
      while (running) await running;
    },
    stop: async () => {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
      clearTimeout(firstRun);
      await running;
    },
  };
}
