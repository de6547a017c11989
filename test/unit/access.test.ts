import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { atLeast, canRead, putGrant, removeGrant, roleOf, type Grant } from '../../backend/src/store/access.js';
import { fileSections, SPACE_KIND, type FileRecord } from '../../backend/src/store/file-records.js';
import { placementIn, rootPlacement } from '../../backend/src/store/file-search.js';
import { readVisibleFile, readVisibleFileJson, stageNewFile } from '../../backend/src/store/files.js';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { Store } from '../../backend/src/store/store.js';
import { trashFile } from '../../backend/src/store/trash.js';
import { makeTempDir } from '../helpers/store.js';

let dir: string;
let store: Store;
let top: FileRecord;
let middle: FileRecord;
let leaf: FileRecord;

const grant = (fileKey: string, who: Pick<Grant, 'type' | 'id'>, role: Grant['role']) =>
  store.mutate((m) => putGrant(m, fileKey, { ...who, role, grantedBy: 'alice', time: m.now }));

before(async () => {
  dir = await makeTempDir();
  store = await Store.open(await openLevelStorage(join(dir, 'db'), { sync: false }));
  // alice owns top; bob created middle inside it; carol's leaf is inside middle.
  top = await store.mutate((m) => stageNewFile(m, { input: { kind: SPACE_KIND, info: { name: 'top' } }, owner: 'alice', placement: rootPlacement }));
  middle = await store.mutate((m) => stageNewFile(m, { input: { kind: SPACE_KIND, info: { name: 'middle' } }, owner: 'bob', placement: placementIn(top, rootPlacement) }));
  leaf = await store.mutate((m) => stageNewFile(m, { input: { kind: 'Core#HttpProject', info: { name: 'leaf' } }, owner: 'carol', placement: placementIn(middle, placementIn(top, rootPlacement)) }));
});

after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

test('roles are ordered reader < commenter < writer < owner', () => {
  assert.ok(atLeast('owner', 'writer') && atLeast('writer', 'writer') && !atLeast('commenter', 'writer') && !atLeast(undefined, 'reader'));
});

test('creators and owners of an ancestor space are owners; others have no role without a grant', async () => {
  const { storage } = store;
  assert.equal(await roleOf(storage, 'alice', leaf.key), 'owner');
  assert.equal(await roleOf(storage, 'bob', leaf.key), 'owner');
  assert.equal(await roleOf(storage, 'bob', top.key), undefined);
  assert.equal(await roleOf(storage, 'carol', leaf.key), 'owner');
  assert.equal(await roleOf(storage, 'dave', leaf.key), undefined);
  assert.equal(await canRead(storage, 'dave', leaf.key), false);
  assert.equal(await roleOf(storage, 'alice', 'no-such-file'), undefined);
});

test('the nearest grant wins, and at one level the higher of the user and anyone grants', async () => {
  const { storage } = store;
  await grant(top.key, { type: 'user', id: 'dave' }, 'writer');
  assert.equal(await roleOf(storage, 'dave', leaf.key), 'writer');
  await grant(middle.key, { type: 'user', id: 'dave' }, 'reader');
  assert.equal(await roleOf(storage, 'dave', leaf.key), 'reader');
  assert.equal(await roleOf(storage, 'dave', top.key), 'writer');
  await grant(middle.key, { type: 'anyone' }, 'commenter');
  assert.equal(await roleOf(storage, 'dave', leaf.key), 'commenter');
  assert.equal(await roleOf(storage, 'erin', leaf.key), 'commenter');
  assert.equal(await roleOf(storage, 'erin', top.key), undefined);
  await store.mutate((m) => {
    removeGrant(m, middle.key, { type: 'anyone' });
    removeGrant(m, middle.key, { type: 'user', id: 'dave' });
  });
  assert.equal(await roleOf(storage, 'dave', leaf.key), 'writer');
  assert.equal(await canRead(storage, 'erin', leaf.key), false);
});

test('trashed files keep their roles (events about them still reach their readers)', async () => {
  await trashFile(store, 'alice', middle.key);
  assert.equal(await canRead(store.storage, 'dave', leaf.key), true);
  assert.equal(await roleOf(store.storage, 'bob', leaf.key), 'owner');
});

test('a file read as its stored text has the same visibility as a decoded read, after changes and over more files than are kept decoded', async () => {
  const outcome = (read: Promise<{ role: string }>) => read.then((file) => file.role, (error: { code?: string }) => error.code);
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    for (const key of [top.key, middle.key, leaf.key, 'no-such-file']) {
      const expected = await outcome(readVisibleFile(store.storage, user, key));
      assert.equal(await outcome(readVisibleFileJson(store.storage, user, key)), expected, `${user} on ${key}`);
      assert.equal(await outcome(readVisibleFileJson(store.storage, user, key)), expected, `${user} on ${key}, read again`);
    }
  }
  // 3,000 records of ~600 bytes: more text than is kept decoded (1 MiB), read twice in turn.
  const record = (n: number, version: number) => ({ key: `many-${n}`, kind: 'Core#Note', info: { name: `n${n}`, description: 'x'.repeat(500) }, owner: 'alice', parents: [], version });
  await store.storage.write(Array.from({ length: 3000 }, (_, n) => ({ type: 'put' as const, section: fileSections.files, key: `many-${n}`, value: record(n, 1) })));
  for (let round = 0; round < 2; round++) {
    for (let n = 0; n < 3000; n++) {
      const read = await readVisibleFileJson(store.storage, 'alice', `many-${n}`);
      assert.equal(read.json, JSON.stringify(record(n, 1)));
    }
  }
  await store.storage.write([{ type: 'put', section: fileSections.files, key: 'many-2999', value: { ...record(2999, 2), deleted: true } }]);
  await assert.rejects(readVisibleFileJson(store.storage, 'alice', 'many-2999'), { code: 'file_not_found' });
  await store.storage.write([{ type: 'put', section: fileSections.files, key: 'many-2999', value: { ...record(2999, 3), owner: 'bob' } }]);
  await assert.rejects(readVisibleFileJson(store.storage, 'alice', 'many-2999'), { code: 'file_not_found' });
  assert.equal((await readVisibleFileJson(store.storage, 'bob', 'many-2999')).version, 3);
});
