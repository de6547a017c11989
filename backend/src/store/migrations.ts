import { indexChangesByPath } from './change-feed.js';
import { dropOwnScopesOfFiles, indexFileWords } from './file-search.js';
import { countHistoryPerUser, indexHistorySearch, oldHistoryWordIndexes } from './history.js';
import { NewerStoreError } from './open-errors.js';
import type { Storage } from './storage.js';

/**
 * Schema migrations, run in order at open for every version above the stored one. Append a new
 * entry (never edit a released one) and bump nothing else: the schema version is the last entry's.
 */
export interface Migration {
  version: number;
  description: string;
  up(storage: Storage): Promise<void>;
}

export const migrations: Migration[] = [
  { version: 1, description: 'initial layout', up: async () => {} },
  { version: 2, description: 'history entry counts per user, for per-user retention', up: (storage) => countHistoryPerUser(storage) },
  { version: 3, description: 'the change feed indexed by event path, for GET /changes?path=', up: (storage) => indexChangesByPath(storage) },
  // Its index was replaced by migration 7's, which builds the new one from the entries.
  { version: 4, description: 'history search terms indexed per scope, for GET /history?query=', up: async () => {} },
  { version: 5, description: 'file names and descriptions indexed by search term and scope, for GET /files?query=', up: (storage) => indexFileWords(storage) },
  { version: 6, description: 'files also indexed for search under the root of each ancestor space\'s owner, so one range finds every file a user owns', up: (storage) => indexFileWords(storage) },
  { version: 7, description: 'history search terms kept as postings per run of entries written together, in place of one key per term and entry', up: (storage) => indexHistorySearch(storage) },
  { version: 8, description: 'files other than spaces no longer indexed for search under their own key: a search matches a file shared on its own from its record', up: (storage) => dropOwnScopesOfFiles(storage) },
];

/** Sections an older schema wrote and a migration removes: a store that holds them is api-store's, to be migrated. */
export const retiredSections: ReadonlySet<string> = new Set(oldHistoryWordIndexes);

/** The schema version a store has after `list` ran: its last migration's. */
export function latestSchema(list: Migration[] = migrations): number {
  return list.at(-1)?.version ?? 0;
}

/** Called once before the first migration of an existing store runs: the moment to back it up. */
export type BeforeMigration = (from: number, to: number) => Promise<void>;

export async function migrate(storage: Storage, list: Migration[] = migrations, beforeMigration?: BeforeMigration): Promise<number> {
  const stored = (await storage.get<number>('meta', 'schemaVersion')) ?? 0;
  const latest = latestSchema(list);
  if (stored > latest) {
    throw new NewerStoreError(stored, latest);
  }
  if (stored > 0 && stored < latest) await beforeMigration?.(stored, latest);
  for (const migration of list) {
    if (migration.version <= stored) continue;
    await migration.up(storage);
    await storage.write([{ type: 'put', section: 'meta', key: 'schemaVersion', value: migration.version }]);
  }
  return latest;
}
