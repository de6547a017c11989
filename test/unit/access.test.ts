import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { atLeast, canRead, putGrant, removeGrant, roleOf, type Grant } from '../../backend/src/store/access.js';
import { SPACE_KIND, type FileRecord } from '../../backend/src/store/file-records.js';
import { placementIn, rootPlacement } from '../../backend/src/store/file-search.js';
import { stageNewFile } from '../../backend/src/store/files.js';
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
