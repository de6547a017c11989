import { createHash } from 'node:crypto';
import { grantKey, type Grant } from './access.js';
import { appDataSections, appUpdatedKey, type AppRecord } from './app-data.js';
import { feedFloor } from './change-feed.js';
import { CHANGES_BY_PATH, pathIndexKeys, seqKey, type Change } from './changes.js';
import { fileSections, SEP, SPACE_KIND, type FileRecord, type TrashEntry } from './file-records.js';
import { fileSearchKeys, isFileSearchKey, placementOf, placementsOf } from './file-search.js';
import { childEntryOf, liveIndexKeys } from './files.js';
import { HISTORY_COUNTS, HISTORY_ENTRIES, HISTORY_RUNS, historyIndexKeys, historyIndexOf, historyIndexValue, historyPostingsOf, historyScopes, historyTerms, type HistoryEntry } from './history.js';
import { latestSchema } from './migrations.js';
import { checkPostings, insideRunsOf } from './postings.js';
import { expiryKey, sessionSections, type SessionRecord } from './sessions.js';
import type { Storage, StorageReader } from './storage.js';
import { trashByUserKey, trashedChildKey } from './trash.js';
import { nameKey, oidcKey, userSections, type UserRecord } from './users.js';

/**
 * A full walk of the store that checks every record against its indexes and every index entry
 * against its record, and the change feed for gaps. An admin command (`api-store verify`, and the
 * tests' check that nothing was lost or half-written), never a request path: it reads everything.
 * It reads one snapshot, so it may run while the store serves writes.
 */
export async function verifyStore(storage: Storage): Promise<{ problems: string[]; digest: string; records: number }> {
  const snapshot = await storage.snapshot();
  try {
    const problems: string[] = [];
    const report = (section: string, key: string, problem: string) => problems.push(`${section} ${JSON.stringify(key)}: ${problem}`);
    const { digest, records, sections } = await digestOf(snapshot);
    for (const section of sections) {
      if (!sectionChecks.has(section)) problems.push(`section ${JSON.stringify(section)} is not one api-store writes`);
    }
    for (const check of sectionChecks.values()) await check(snapshot, report);
    if (records > 0 && (await snapshot.get('meta', 'schemaVersion')) === undefined) problems.push('meta: the schema version is missing');
    return { problems, digest, records };
  } finally {
    await snapshot.close();
  }
}

/** SHA-256 over every (section, key, value) in order, each part length-prefixed so no two stores collide by concatenation. */
export async function digestOf(reader: StorageReader): Promise<{ digest: string; records: number; sections: Set<string> }> {
  const hash = createHash('sha256');
  const sections = new Set<string>();
  let records = 0;
  const part = (text: string) => hash.update(`${Buffer.byteLength(text)}:`).update(text);
  for await (const record of reader.records()) {
    part(record.section);
    part(record.key);
    part(JSON.stringify(record.value));
    sections.add(record.section);
    records += 1;
  }
  return { digest: hash.digest('hex'), records, sections };
}

type Report = (section: string, key: string, problem: string) => void;
type SectionCheck = (reader: StorageReader, report: Report) => Promise<void>;

const historyPostingSections = historyScopes.filter((scope) => scope !== 'app').map(historyPostingsOf);

const keyAfterLastSep = (indexKey: string) => indexKey.slice(indexKey.lastIndexOf(SEP) + 1);

/** Reads per lookup batch: a full walk costs one storage round trip per this many records. */
const CHUNK = 500;

async function* chunksOf<T>(items: AsyncIterable<T>): AsyncIterable<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}

/** Every entry of an index must point at a record that would write exactly that entry. */
function indexCheck<R>(
  index: string,
  target: string,
  recordKeyOf: (indexKey: string, value: unknown) => string,
  expectedKeys: (record: R, recordKey: string) => string[] | undefined,
  /** What the entry must hold, for indexes whose value is read instead of the record (listings, visibility). */
  expectedValue?: (record: R) => unknown,
): SectionCheck {
  return async (reader, report) => {
    for await (const chunk of chunksOf(reader.entries<unknown>(index))) {
      const recordKeys = chunk.map(([indexKey, value]) => recordKeyOf(indexKey, value));
      const records = await reader.getMany<R>(target, recordKeys);
      chunk.forEach(([indexKey, value], i) => {
        const record = records[i];
        if (record === undefined) report(index, indexKey, `index entry without its record in ${target}`);
        else if (!expectedKeys(record, recordKeys[i])?.includes(indexKey)) report(index, indexKey, `index entry does not match its record in ${target}`);
        else if (expectedValue && JSON.stringify(value) !== JSON.stringify(expectedValue(record))) report(index, indexKey, `index entry holds stale values of its record in ${target}`);
      });
    }
  };
}

/** Every record must have each of the index entries it implies. */
function recordCheck<R>(
  section: string,
  indexesOf: (record: R, key: string, reader: StorageReader) => [string, string][] | Promise<[string, string][]>,
  more?: (record: R, key: string, reader: StorageReader, report: Report) => Promise<void>,
): SectionCheck {
  return async (reader, report) => {
    for await (const chunk of chunksOf(reader.entries<R>(section))) {
      const wanted = new Map<string, { recordKey: string; indexKey: string }[]>();
      for (const [key, record] of chunk) {
        for (const [index, indexKey] of await indexesOf(record, key, reader)) {
          const list = wanted.get(index) ?? [];
          list.push({ recordKey: key, indexKey });
          wanted.set(index, list);
        }
      }
      for (const [index, list] of wanted) {
        const found = await reader.getMany(index, list.map((entry) => entry.indexKey));
        list.forEach((entry, i) => found[i] === undefined && report(section, entry.recordKey, `record missing from ${index}`));
      }
      if (more) for (const [key, record] of chunk) await more(record, key, reader, report);
    }
  };
}

const fileIndexes = async (record: FileRecord, _: string, reader: StorageReader): Promise<[string, string][]> =>
  record.deleted
    ? [[fileSections.trashedChildren, trashedChildKey(record)]]
    : [...liveIndexKeys(record), ...fileSearchKeys(record, await placementOf(reader, record)).map((key): [string, string] => [fileSections.words, key])];

/** Every search entry must be one its live file writes (see file-search.ts), its ancestors' owners read per chunk. */
async function checkFileWords(reader: StorageReader, report: Report): Promise<void> {
  for await (const chunk of chunksOf(reader.keys(fileSections.words))) {
    const keys = chunk.map(keyAfterLastSep);
    const records = await reader.getMany<FileRecord>(fileSections.files, keys);
    const live = [...new Map(records.flatMap((record) => (record && !record.deleted ? [[record.key, record] as const] : []))).values()];
    const placements = await placementsOf(reader, live);
    const expected = new Map(live.map((record, i) => [record.key, isFileSearchKey(record, placements[i])]));
    chunk.forEach((indexKey, i) => {
      if (records[i] === undefined) report(fileSections.words, indexKey, `index entry without its record in ${fileSections.files}`);
      else if (!expected.get(keys[i])?.(indexKey)) report(fileSections.words, indexKey, `index entry does not match its record in ${fileSections.files}`);
    });
  }
}

const fileExists = (what: string, section: string): SectionCheck => async (reader, report) => {
  for await (const keys of chunksOf(reader.keys(section))) {
    const files = await reader.getMany(fileSections.files, keys.map((key) => (section === fileSections.media ? key : key.slice(0, key.indexOf(SEP)))));
    keys.forEach((key, i) => files[i] === undefined && report(section, key, `${what} without its file's metadata`));
  }
};

/**
 * Each user's history count (what per-user retention trusts) must equal their entries in the user
 * index, and a user with entries must have one; a zero count is deleted, never stored.
 */
async function checkHistoryCounts(reader: StorageReader, report: Report): Promise<void> {
  const entries = new Map<string, number>();
  for await (const indexKey of reader.keys(historyIndexOf('user'))) {
    const user = indexKey.slice(0, indexKey.indexOf(SEP));
    entries.set(user, (entries.get(user) ?? 0) + 1);
  }
  for await (const [user, count] of reader.entries<number>(HISTORY_COUNTS)) {
    const held = entries.get(user) ?? 0;
    if (held === 0) report(HISTORY_COUNTS, user, `counts ${count} history entries for a user who has none`);
    else if (count !== held) report(HISTORY_COUNTS, user, `counts ${count} history entries, the user has ${held}`);
    entries.delete(user);
  }
  for (const [user, held] of entries) report(HISTORY_COUNTS, user, `no count for a user with ${held} history entries`);
}

/** A purged file's key is retired for good: no file may hold it again. */
async function checkRetiredKeys(reader: StorageReader, report: Report): Promise<void> {
  for await (const keys of chunksOf(reader.keys(fileSections.retiredKeys))) {
    const files = await reader.getMany(fileSections.files, keys);
    keys.forEach((key, i) => files[i] !== undefined && report(fileSections.retiredKeys, key, 'a retired file key is held by a file'));
  }
}

async function checkChangeFeed(reader: StorageReader, report: Report): Promise<void> {
  const floor = await feedFloor(reader);
  let expected = floor + 1;
  let last: number | undefined;
  for await (const [key, change] of reader.entries<Change>('changes')) {
    const seq = Number(key);
    if (!Number.isSafeInteger(seq) || key !== seqKey(seq)) {
      report('changes', key, 'not a sequence number');
      continue;
    }
    if (change?.seq !== seq) report('changes', key, `holds the change of seq ${change?.seq}`);
    if (seq <= floor) report('changes', key, `at or below the feed floor ${floor}`);
    else if (seq !== expected) report('changes', key, `gap in the change feed: seq ${expected}..${seq - 1} missing`);
    expected = Math.max(expected, seq + 1);
    last = seq;
  }
  if (last === undefined && floor > 0) report('meta', 'changes:floor', `the change feed is empty below a floor of ${floor}: new changes would reuse old seqs`);
}

/**
 * One check per section api-store writes; a section missing here is reported as foreign, so a
 * new section must come with its check. Sections whose records imply no index (`invites`,
 * `meta`) need none beyond being known.
 */
const sectionChecks = new Map<string, SectionCheck>([
  ['meta', async (reader, report) => {
    const version = await reader.get<number>('meta', 'schemaVersion');
    const known = latestSchema();
    if (version !== undefined && version > known) report('meta', 'schemaVersion', `schema ${version} is newer than this api-store knows (${known})`);
  }],
  ['changes', checkChangeFeed],
  [CHANGES_BY_PATH, indexCheck<Change>(CHANGES_BY_PATH, 'changes', keyAfterLastSep, (change) => pathIndexKeys(change))],
  ['invites', async () => {}],

  [fileSections.files, recordCheck<FileRecord>(fileSections.files, fileIndexes, async (record, key, reader, report) => {
    if (record.key !== key) report(fileSections.files, key, `holds the record of ${record.key}`);
    const parents = await reader.getMany<FileRecord>(fileSections.files, record.parents);
    parents.forEach((parent, i) => {
      if (!parent) report(fileSections.files, key, `its ancestor ${record.parents[i]} is missing`);
      else if (parent.kind !== SPACE_KIND) report(fileSections.files, key, `its ancestor ${parent.key} is not a space`);
    });
  })],
  ...[fileSections.children, fileSections.childrenByKind, fileSections.childrenByUpdated].map(
    (index) => [index, indexCheck<FileRecord>(index, fileSections.files, keyAfterLastSep, (record) => (record.deleted ? [] : liveIndexKeys(record).map(([, key]) => key)), childEntryOf)] as const,
  ),
  [fileSections.trashedChildren, indexCheck<FileRecord>(fileSections.trashedChildren, fileSections.files, keyAfterLastSep, (record) => (record.deleted ? [trashedChildKey(record)] : []))],
  [fileSections.retiredKeys, checkRetiredKeys],
  [fileSections.media, fileExists('contents', fileSections.media)],
  [fileSections.revisions, fileExists('revision', fileSections.revisions)],
  [fileSections.secrets, fileExists('sealed secret', fileSections.secrets)],
  [fileSections.grants, recordCheck<Grant>(fileSections.grants, (grant, key) => (grant.type === 'user' ? [[fileSections.grantsByUser, `${grant.id}${SEP}${key.slice(0, key.indexOf(SEP))}`]] : []), async (grant, key, reader, report) => {
    const fileKey = key.slice(0, key.indexOf(SEP));
    if (key !== grantKey(fileKey, grant)) report(fileSections.grants, key, 'holds the grant of another user');
    if ((await reader.get(fileSections.files, fileKey)) === undefined) report(fileSections.grants, key, "grant without its file's metadata");
    const indexed = grant.type === 'user' ? await reader.get(fileSections.grantsByUser, `${grant.id}${SEP}${fileKey}`) : undefined;
    if (indexed !== undefined && indexed !== grant.role) report(fileSections.grants, key, `${fileSections.grantsByUser} holds another role`);
  })],
  [fileSections.grantsByUser, indexCheck<Grant>(
    fileSections.grantsByUser,
    fileSections.grants,
    (indexKey) => grantKey(keyAfterLastSep(indexKey), { type: 'user', id: indexKey.slice(0, indexKey.indexOf(SEP)) }),
    (grant, grantKeyValue) => [`${grant.id}${SEP}${grantKeyValue.slice(0, grantKeyValue.indexOf(SEP))}`],
  )],
  [fileSections.trash, recordCheck<TrashEntry>(fileSections.trash, (entry, key) => [[fileSections.trashByUser, trashByUserKey(entry, key)]], async (_, key, reader, report) => {
    const record = await reader.get<FileRecord>(fileSections.files, key);
    if (!record?.deleted) report(fileSections.trash, key, 'trash entry of a file that is not in trash');
  })],
  [fileSections.trashByUser, indexCheck<TrashEntry>(fileSections.trashByUser, fileSections.trash, keyAfterLastSep, (entry, key) => [trashByUserKey(entry, key)])],

  [appDataSections.records, recordCheck<AppRecord>(appDataSections.records, (record, key) => {
    const prefix = key.slice(0, key.length - record.key.length);
    const indexes: [string, string][] = [[appDataSections.byUpdated, appUpdatedKey(prefix, record)]];
    if (!record.deleted) indexes.push([appDataSections.live, key]);
    return indexes;
  })],
  [appDataSections.live, indexCheck<AppRecord>(appDataSections.live, appDataSections.records, (key) => key, (record, key) => (record.deleted ? [] : [key]))],
  [appDataSections.byUpdated, indexCheck<AppRecord>(
    appDataSections.byUpdated,
    appDataSections.records,
    (indexKey) => indexKey.slice(0, indexKey.lastIndexOf(SEP, indexKey.lastIndexOf(SEP) - 1) + 1) + keyAfterLastSep(indexKey),
    (record, key) => [appUpdatedKey(key.slice(0, key.length - record.key.length), record)],
  )],

  [fileSections.words, checkFileWords],

  [HISTORY_ENTRIES, recordCheck<HistoryEntry>(HISTORY_ENTRIES, historyIndexKeys)],
  [HISTORY_RUNS, (reader, report) => checkPostings(reader, { runs: HISTORY_RUNS, records: HISTORY_ENTRIES, sections: historyPostingSections, scopesOf: historyTerms }, report)],
  // Checked with the runs.
  ...[...historyPostingSections, insideRunsOf(HISTORY_RUNS)].map((section) => [section, async () => {}] as const),
  ...historyScopes.map((scope) => {
    const index = historyIndexOf(scope);
    const keysIn = (entry: HistoryEntry) => historyIndexKeys(entry).filter(([section]) => section === index).map(([, key]) => key);
    return [index, indexCheck<HistoryEntry>(index, HISTORY_ENTRIES, keyAfterLastSep, keysIn, historyIndexValue)] as const;
  }),
  [HISTORY_COUNTS, checkHistoryCounts],

  [sessionSections.sessions, recordCheck<SessionRecord>(sessionSections.sessions, (session) => [
    [sessionSections.byUser, `${session.user}:${session.id}`],
    [sessionSections.byExpiry, expiryKey(session)],
  ])],
  [sessionSections.byUser, indexCheck<SessionRecord>(sessionSections.byUser, sessionSections.sessions, (_, id) => String(id), (session) => [`${session.user}:${session.id}`])],
  [sessionSections.byExpiry, indexCheck<SessionRecord>(sessionSections.byExpiry, sessionSections.sessions, (_, id) => String(id), (session) => [expiryKey(session)])],

  [userSections.users, recordCheck<UserRecord>(userSections.users, (user) => [
    ...(user.username !== undefined ? [[userSections.byName, nameKey(user.username)] as [string, string]] : []),
    ...(user.oidc ? [[userSections.byOidc, oidcKey(user.oidc)] as [string, string]] : []),
  ])],
  [userSections.byName, indexCheck<UserRecord>(userSections.byName, userSections.users, (_, key) => String(key), (user) => (user.username !== undefined ? [nameKey(user.username)] : []))],
  [userSections.byOidc, indexCheck<UserRecord>(userSections.byOidc, userSections.users, (_, key) => String(key), (user) => (user.oidc ? [oidcKey(user.oidc)] : []))],
]);

/** The sections api-store writes. */
export const knownSections: ReadonlySet<string> = new Set(sectionChecks.keys());
