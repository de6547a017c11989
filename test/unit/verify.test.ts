import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { below } from '../../backend/src/store/file-records.js';
import { CHANGES_BY_PATH, pathIndexKeys, seqKey, type Change } from '../../backend/src/store/changes.js';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import type { WriteOp } from '../../backend/src/store/storage.js';
import { Store } from '../../backend/src/store/store.js';
import { verifyStore } from '../../backend/src/store/verify.js';
import { populateStore, type Populated } from '../helpers/populate.js';
import { makeTempDir } from '../helpers/store.js';

/** verify on a real LevelDB store with one of everything, then with one inconsistency written raw. */
let dir: string;
let store: Store;
let made: Populated;

beforeEach(async () => {
  dir = await makeTempDir('api-store-verify-');
  store = await Store.open(await openLevelStorage(join(dir, 'db'), { sync: false }));
  made = await populateStore(store);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Writes `ops` behind the store's back and answers what verify then reports. */
async function problemsAfter(ops: WriteOp[]): Promise<string[]> {
  await store.storage.write(ops);
  return (await verifyStore(store.storage)).problems;
}

test('a store written only through the store functions verifies clean, with a stable digest', async () => {
  const first = await verifyStore(store.storage);
  assert.deepEqual(first.problems, []);
  assert.ok(first.records > 40, `walked ${first.records} records`);
  assert.match(first.digest, /^[0-9a-f]{64}$/);
  assert.equal((await verifyStore(store.storage)).digest, first.digest, 'unchanged store, same digest');
  await store.secret('another');
  assert.notEqual((await verifyStore(store.storage)).digest, first.digest, 'any write changes the digest');
});

test('an index entry without its record is reported', async () => {
  const problems = await problemsAfter([{ type: 'del', section: 'files', key: made.project }]);
  assert.ok(problems.some((p) => p.startsWith('file-children ') && p.includes('index entry without its record')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('file-media ') && p.includes("contents without its file's metadata")), 'media without metadata');
  assert.ok(problems.some((p) => p.startsWith('file-revisions ')), 'revisions without metadata');
});

test('a record missing from one of its indexes is reported', async () => {
  const record = await store.storage.get<{ kind: string; parents: string[] }>('files', made.project);
  const problems = await problemsAfter([{ type: 'del', section: 'file-children-by-kind', key: `${made.space}\0${record!.kind}\0${made.project}` }]);
  assert.deepEqual(problems, [`files ${JSON.stringify(made.project)}: record missing from file-children-by-kind`]);
});

test('an index entry that no longer matches its record is reported', async () => {
  const problems = await problemsAfter([{ type: 'put', section: 'file-children-by-kind', key: `${made.space}\0Core#Other\0${made.project}`, value: {} }]);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /^file-children-by-kind .*does not match its record/);
});

test('a search entry with a term or a scope its file does not have is reported, and one it has is not', async () => {
  const scopeKeys = await store.storage.keyList('file-words', below(made.space));
  const held = scopeKeys.find((key) => key.endsWith(`\0${made.project}`))!;
  const term = held.split('\0')[1];
  const problems = await problemsAfter([
    { type: 'put', section: 'file-words', key: held, value: 0 },
    { type: 'put', section: 'file-words', key: `${made.space}\0zzzunheld\0${made.project}`, value: 0 },
    { type: 'put', section: 'file-words', key: `~root~intruder\0${term}\0${made.project}`, value: 0 },
    { type: 'put', section: 'file-words', key: `${made.space}\0${term}\0extra\0${made.project}`, value: 0 },
  ]);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.ok(problems.every((problem) => /^file-words .*does not match its record/.test(problem)), problems.join('\n'));
  assert.ok(problems.some((problem) => problem.includes('zzzunheld')) && problems.some((problem) => problem.includes('intruder')) && problems.some((problem) => problem.includes('extra')));
});

test('media without metadata is reported', async () => {
  const problems = await problemsAfter([{ type: 'put', section: 'file-media', key: 'nobody', value: { value: 1, version: 1, updated: 1 } }]);
  assert.deepEqual(problems, ['file-media "nobody": contents without its file\'s metadata']);
});

test('a gap in the change feed is reported, and so is an empty feed under a floor', async () => {
  const middle = Math.floor(store.seq / 2);
  const lost = (await store.storage.get<Change>('changes', seqKey(middle)))!;
  let problems = await problemsAfter([
    { type: 'del', section: 'changes', key: seqKey(middle) },
    ...pathIndexKeys(lost).map((key): WriteOp => ({ type: 'del', section: CHANGES_BY_PATH, key })),
  ]);
  assert.deepEqual(problems, [`changes ${JSON.stringify(seqKey(middle + 1))}: gap in the change feed: seq ${middle}..${middle} missing`]);
  const all: WriteOp[] = [];
  for await (const key of store.storage.keys('changes')) all.push({ type: 'del', section: 'changes', key });
  problems = await problemsAfter([...all, { type: 'put', section: 'meta', key: 'changes:floor', value: 3 }]);
  assert.ok(problems.some((p) => p.includes('the change feed is empty below a floor of 3')), problems.join('\n'));
});

test('grants and grants-by-user must agree', async () => {
  let problems = await problemsAfter([{ type: 'put', section: 'grants-by-user', key: `${made.alice}\0${made.space}`, value: 'owner' }]);
  assert.deepEqual(problems, [`file-grants ${JSON.stringify(`${made.space}\0user:${made.alice}`)}: grants-by-user holds another role`]);
  problems = await problemsAfter([{ type: 'put', section: 'grants-by-user', key: `mallory\0${made.space}`, value: 'owner' }]);
  assert.ok(problems.some((p) => p.startsWith('grants-by-user "mallory') && p.includes('without its record')), problems.join('\n'));
});

test('a trashed-children entry of a live file, a trash entry of a live file, a foreign section, wrong history counts, a retired key in use', async () => {
  const problems = await problemsAfter([
    { type: 'put', section: 'file-trashed-children', key: `${made.space}\0${made.project}`, value: made.project },
    { type: 'put', section: 'trash', key: made.project, value: { user: 'owner', time: 5 } },
    { type: 'put', section: 'elsewhere', key: 'k', value: 1 },
    { type: 'put', section: 'history-counts', key: 'owner', value: 7 },
    { type: 'put', section: 'history-counts', key: 'ghost', value: 3 },
    { type: 'put', section: 'file-keys-retired', key: made.project, value: 1 },
  ]);
  const expected = [
    /^file-trashed-children .*does not match its record/,
    /^trash .*: record missing from trash-by-user/,
    /^trash .*trash entry of a file that is not in trash/,
    /^section "elsewhere" is not one api-store writes/,
    /^history-counts "owner": counts 7 history entries, the user has 2/,
    /^history-counts "ghost": counts 3 history entries for a user who has none/,
    /^file-keys-retired .*a retired file key is held by a file/,
  ];
  for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} in\n${problems.join('\n')}`);
});

test('a user with history entries and no count is reported', async () => {
  const problems = await problemsAfter([{ type: 'del', section: 'history-counts', key: 'owner' }]);
  assert.deepEqual(problems, ['history-counts "owner": no count for a user with 2 history entries']);
});

test('history, app records, sessions and users: each index checked both ways', async () => {
  const raw = async (section: string) => {
    const entries: [string, unknown][] = [];
    for await (const entry of store.storage.entries(section)) entries.push(entry);
    return entries;
  };
  const [historyIndex] = await raw('history-by-space');
  const [live] = await raw('app-records-live');
  const [session] = await raw('sessions-by-expiry');
  const [name] = await raw('users-by-name');
  const problems = await problemsAfter([
    { type: 'del', section: 'history-by-space', key: historyIndex[0] },
    { type: 'del', section: 'app-records-live', key: live[0] },
    { type: 'del', section: 'sessions-by-expiry', key: session[0] },
    { type: 'put', section: 'users-by-name', key: 'ghost', value: name[1] },
  ]);
  for (const pattern of [/^history .*record missing from history-by-space/, /^app-records .*record missing from app-records-live/, /^sessions .*record missing from sessions-by-expiry/, /^users-by-name "ghost".*does not match/]) {
    assert.ok(problems.some((p) => pattern.test(p)), `${pattern} in\n${problems.join('\n')}`);
  }
});

test('history search: a missing or stale postings record, an extra one, an entry missing from its run and a missing top of the runs are reported', async () => {
  const postings: [string, string][] = [];
  for await (const entry of store.storage.entries<string>('history-postings-by-user')) postings.push(entry);
  const runs: [string, string[]][] = [];
  for await (const entry of store.storage.entries<string[]>('history-runs')) runs.push(entry);
  const [run] = runs;
  assert.ok(postings.length > 2 && runs.length === 1 && run[1].length === 2, 'the two populated entries are one run');
  const problems = await problemsAfter([
    { type: 'del', section: 'history-postings-by-user', key: postings[0][0] },
    { type: 'put', section: 'history-postings-by-user', key: postings[1][0], value: '7' },
    { type: 'put', section: 'history-postings-by-space', key: `nowhere\0ghost\0${run[0]}`, value: '0' },
    { type: 'put', section: 'history-runs', key: run[0], value: [run[1][0]] },
    { type: 'del', section: 'meta', key: 'history-runs:top' },
  ]);
  const expected = [
    /^history-postings-by-user .*missing: records hold its term/,
    /^history-postings-by-user .*lists 7 where the records holding its term are/,
    /^history-postings-by-space "": holds \d+ postings records where the runs' records imply \d+/,
    /^history .*record missing from history-runs/,
    /^meta "history-runs:top": is undefined, below the key/,
  ];
  for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} in\n${problems.join('\n')}`);
});

test('the digest is taken from one snapshot: writes during the walk do not show', async () => {
  const before = await verifyStore(store.storage);
  const snapshot = await store.storage.snapshot();
  await store.secret('during');
  let seen = 0;
  for await (const _ of snapshot.records()) seen += 1;
  await snapshot.close();
  assert.equal(seen, before.records);
});

test('an index entry holding stale values of its record is reported: listings and visibility read them', async () => {
  const record = await store.storage.get<{ kind: string }>('files', made.project);
  const [historyIndex] = await (async () => {
    const entries: [string, unknown][] = [];
    for await (const entry of store.storage.entries('history-by-space')) entries.push(entry);
    return entries;
  })();
  const problems = await problemsAfter([
    { type: 'put', section: 'file-children', key: `${made.space}\0${made.project}`, value: { kind: record!.kind, name: 'Old name' } },
    { type: 'put', section: 'history-by-space', key: historyIndex[0], value: { user: 'mallory', space: made.space } },
  ]);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0], /^file-children .*holds stale values of its record in files/);
  assert.match(problems[1], /^history-by-space .*holds stale values of its record in history/);
});
