import { ApiError } from '../http/problem.js';
import { atLeast, canRead, roleOf } from './access.js';
import type { ChangeInput } from './changes.js';
import { fileSections } from './file-records.js';
import { readFilteredPage } from './paging.js';
import type { Storage } from './storage.js';
import type { Mutation, Store } from './store.js';
import { sortableTime, timeOrderedKey } from './time-keys.js';
import { withFields } from './with-fields.js';

/**
 * The request history: every request a user sends, the highest-volume data of the store.
 *
 * Layout: `history` holds the entries by key, and the key starts with the entry's time, so that
 * section is also the store-wide age order that retention prunes from. One index per list type
 * (`history-by-user|app|space|project|request`) maps `<scope>\0<entry key>` to what visibility
 * needs; iterating it backwards lists one scope newest first at the cost of the page. The key
 * counter and the entry count live in `meta` under `history`.
 */

export const HISTORY_KIND = 'Core#HttpHistory';

export const historyScopes = ['user', 'space', 'project', 'request', 'app'] as const;
export type HistoryScope = (typeof historyScopes)[number];

/** What a client sends: the request log, the app that sent it and what it was attached to. */
export interface HistoryInput {
  app: string;
  log: {
    request: { url: string; method: string; headers: string; payload?: unknown; startTime: number; [field: string]: unknown };
    response?: { status: number; statusText: string; headers: string; payload?: unknown; timings: object; [field: string]: unknown };
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
  /** Keep at most this many entries in the store; 0 keeps any number. */
  maxEntries: number;
  /** Remove entries older than this; 0 keeps them whatever their age. */
  maxAgeMs: number;
}

export const HISTORY_ENTRIES = 'history';
export const historyIndexOf = (scope: HistoryScope) => `history-by-${scope}`;
/** The store-wide counters, kept in `meta` and updated in the batch of every change. */
export const HISTORY_STATE_KEY = 'history';

export interface HistoryState {
  /** The last key counter handed out (keys never reuse one). */
  counter: number;
  /** How many entries the store holds, for the max-entries retention. */
  count: number;
}

/** An index value: enough to decide visibility without reading the entry. */
interface IndexValue {
  user: string;
  space?: string;
  project?: string;
}

/** Index keys end in `\0<entry key>`; scope ids cannot contain control characters. */
function scopePrefix(scope: HistoryScope, user: string, id: string | undefined): string {
  if (scope === 'user') return `${user}\0`;
  if (scope === 'app') return `${user}\0${id}\0`;
  return `${id}\0`;
}

export function historyIndexKeys(entry: HistoryEntry): [string, string][] {
  const entries: [string, string][] = [
    [historyIndexOf('user'), `${entry.user}\0${entry.key}`],
    [historyIndexOf('app'), `${entry.user}\0${entry.app}\0${entry.key}`],
  ];
  for (const scope of ['space', 'project', 'request'] as const) {
    const id = entry[scope];
    if (id) entries.push([historyIndexOf(scope), `${id}\0${entry.key}`]);
  }
  return entries;
}

async function readState(storage: Storage): Promise<HistoryState> {
  return (await storage.get<HistoryState>('meta', HISTORY_STATE_KEY)) ?? { counter: 0, count: 0 };
}

/** The space and project an entry is attached to: their readers see the entry too. */
function attachedFiles(entry: { space?: string; project?: string }): string[] {
  return [entry.space, entry.project].filter((id): id is string => !!id);
}

/** Who hears of an entry's changes: as with reading it, its user and the readers of `attachedFiles`. */
function changeOf(operation: 'created' | 'deleted', entry: HistoryEntry): ChangeInput {
  const files = attachedFiles(entry);
  return { operation, kind: HISTORY_KIND, id: entry.key, paths: ['/history'], visibility: files.length ? { user: entry.user, files } : { user: entry.user } };
}

function removeEntry(m: Mutation, entry: HistoryEntry): void {
  m.del(HISTORY_ENTRIES, entry.key);
  for (const [section, key] of historyIndexKeys(entry)) m.del(section, key);
  m.change(changeOf('deleted', entry));
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

const notFound = (key: string) => new ApiError('history_entry_not_found', `There is no history entry ${key}.`, { extra: { key } });

/**
 * An entry may name a space or project only if the caller can read it when it is a file: the
 * attachment shows the entry to that file's readers. A reference to anything else (an app's own
 * project, a request) only files the entry under that id.
 */
async function checkAttachments(storage: Storage, access: HistoryAccess, inputs: HistoryInput[]): Promise<void> {
  const ids = new Set(inputs.flatMap(attachedFiles));
  for (const id of ids) {
    if ((await storage.get(fileSections.files, id)) && !(await access.canRead(id))) {
      throw new ApiError('file_not_found', `History cannot be attached to ${id}: there is no such space or project.`);
    }
  }
}

/** Stores entries of the caller in one batch and returns them in order. */
export async function createHistory(store: Store, access: HistoryAccess, inputs: HistoryInput[]): Promise<HistoryEntry[]> {
  await checkAttachments(store.storage, access, inputs);
  const { user } = access;
  return store.mutate(async (m) => {
    const state = await readState(store.storage);
    const entries = inputs.map((input, index) => {
      const created = input.created ?? m.now;
      const entry: HistoryEntry = withFields(input, { kind: HISTORY_KIND, key: timeOrderedKey(created, state.counter + index + 1), user, created });
      const value: IndexValue = { user, space: entry.space, project: entry.project };
      m.put(HISTORY_ENTRIES, entry.key, entry);
      for (const [section, key] of historyIndexKeys(entry)) m.put(section, key, value);
      m.change(changeOf('created', entry));
      return entry;
    });
    m.put('meta', HISTORY_STATE_KEY, { counter: state.counter + inputs.length, count: state.count + inputs.length });
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
      if (!writable) throw new ApiError('forbidden_role', `Only its user or a writer of its space or project removes history entry ${entry.key}.`);
    }
    for (const entry of entries as HistoryEntry[]) removeEntry(m, entry);
    const state = await readState(store.storage);
    m.put('meta', HISTORY_STATE_KEY, { ...state, count: state.count - entries.length });
  });
}

export interface HistoryListQuery {
  type: HistoryScope;
  /** The space, project, request or app; unused for `user` (always the caller). */
  id?: string;
  /** Case-insensitive text matched against the request's URL and method. */
  query?: string;
  /** Only entries created at or after this time (ms). */
  since?: number;
}

/**
 * Reads indexes at most this many entries per list request when filtering (by visibility or by
 * `query`), so a sparse match returns a short page with a cursor instead of scanning further.
 */
export const HISTORY_SCAN_BUDGET = 2000;

function matchesQuery(entry: HistoryEntry, text: string): boolean {
  const { url, method } = entry.log.request;
  return url.toLowerCase().includes(text) || method.toLowerCase().includes(text);
}

/**
 * One page of a scope's entries the caller can see, newest first. `user` and `app` lists read the
 * caller's own index; space, project and request lists hold everyone's entries and keep those the
 * caller may see (theirs, or attached to a space or project they can read).
 */
export async function listHistory(
  storage: Storage,
  access: HistoryAccess,
  list: HistoryListQuery,
  page: { limit: number; after?: string },
): Promise<{ items: HistoryEntry[]; last?: string }> {
  const prefix = scopePrefix(list.type, access.user, list.id);
  const range = {
    gte: list.since === undefined ? prefix : prefix + sortableTime(list.since),
    lt: `${prefix.slice(0, -1)}\x01`,
    reverse: true,
  };
  const visible = visibilityChecker(access);
  const text = list.query?.toLowerCase();
  return readFilteredPage<IndexValue, HistoryEntry>(
    storage,
    historyIndexOf(list.type),
    range,
    { ...page, budget: HISTORY_SCAN_BUDGET },
    async (chunk) => {
      const shown = await Promise.all(chunk.map(([, value]) => visible(value)));
      const keys = chunk.map(([indexKey]) => indexKey.slice(indexKey.lastIndexOf('\0') + 1));
      const entries = await storage.getMany<HistoryEntry>(HISTORY_ENTRIES, keys);
      return entries.map((entry, index) => (entry && shown[index] && (!text || matchesQuery(entry, text)) ? entry : undefined));
    },
  );
}

/**
 * Removes the oldest entries beyond the retention limits, at most `chunk` per batch so that
 * requests interleave with a long prune (`stopped` ends it between batches). Entries go strictly
 * oldest first, by their time. Returns how many it removed.
 */
export async function pruneHistory(
  store: Store,
  retention: HistoryRetention,
  now: number,
  chunk = 1000,
  stopped: () => boolean = () => false,
): Promise<number> {
  const cutoff = retention.maxAgeMs ? sortableTime(now - retention.maxAgeMs) : undefined;
  let removed = 0;
  for (;;) {
    const count = await store.mutate(async (m) => {
      const state = await readState(store.storage);
      const excess = retention.maxEntries ? state.count - retention.maxEntries : 0;
      const doomed: HistoryEntry[] = [];
      for await (const [key, entry] of store.storage.entries<HistoryEntry>(HISTORY_ENTRIES, { limit: chunk })) {
        if (doomed.length >= excess && !(cutoff && key < cutoff)) break;
        doomed.push(entry);
      }
      for (const entry of doomed) removeEntry(m, entry);
      if (doomed.length) m.put('meta', HISTORY_STATE_KEY, { ...state, count: state.count - doomed.length });
      return doomed.length;
    });
    removed += count;
    if (count < chunk || stopped()) return removed;
  }
}

/** Whether the retention limits are exceeded, from the counters and the oldest key: no scan. */
async function pruneNeeded(storage: Storage, retention: HistoryRetention, now: number): Promise<boolean> {
  const state = await readState(storage);
  if (retention.maxEntries && state.count > retention.maxEntries) return true;
  if (!retention.maxAgeMs) return false;
  for await (const oldest of storage.keys(HISTORY_ENTRIES, { limit: 1 })) return oldest < sortableTime(now - retention.maxAgeMs);
  return false;
}

export interface HistoryRetentionTask {
  /** Checks the limits soon (coalesced): after every history write and once an hour. */
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
  options: { onError(error: unknown): void; clock?: () => number; intervalMs?: number },
): HistoryRetentionTask {
  const clock = options.clock ?? Date.now;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const run = async () => {
    do {
      again = false;
      if (await pruneNeeded(store.storage, retention, clock())) await pruneHistory(store, retention, clock(), 1000, () => stopped);
    } while (again && !stopped);
  };
  const trigger = () => {
    if (stopped || (!retention.maxEntries && !retention.maxAgeMs)) return;
    if (running) {
      again = true;
      return;
    }
    running = run()
      .catch(options.onError)
      .finally(() => (running = undefined));
  };
  const unsubscribe = store.onChanges((changes) => {
    if (changes.some((change) => change.kind === HISTORY_KIND && change.operation === 'created')) trigger();
  });
  const timer = setInterval(trigger, options.intervalMs ?? 60 * 60 * 1000).unref();
  trigger();
  return {
    trigger,
    idle: async () => {
      while (running) await running;
    },
    stop: async () => {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
      await running;
    },
  };
}
