import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Authenticator } from '../../backend/src/auth/caller.js';
import { createUser } from '../../backend/src/store/users.js';
import { openStoredRecords, startTestStore, type TestStore } from '../helpers/store.js';

type Json = Record<string, any>;

/** `user-friend` is the account `friendKey` (made through the storage layer by `addFriend`). */
let friendKey = '';
const users: Authenticator = (credential) => (credential === 'user-friend' && friendKey ? { user: friendKey, admin: false } : undefined);
const addFriend = async (store: TestStore) => {
  friendKey = (await createUser(store.running.services.store, { name: 'friend', admin: false })).key;
};

async function call(store: TestStore, path: string, init: Parameters<TestStore['api']>[1] = {}): Promise<{ status: number; body: Json }> {
  const response = await store.api(path, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

async function create(store: TestStore, name: string, kind: string, parent?: string, media?: unknown): Promise<Json> {
  const query = new URLSearchParams();
  if (parent) query.set('parent', parent);
  if (media !== undefined) query.set('alt', 'media');
  const meta = { kind, info: { name } };
  const { status, body } = await call(store, `/files?${query}`, { method: 'POST', body: media === undefined ? meta : { meta, media } });
  assert.equal(status, 201, JSON.stringify(body));
  return body;
}

const space = (store: TestStore, name: string, parent?: string) => create(store, name, 'Core#Space', parent);

/** A → B → C → D (with contents), plus E in A: three levels of spaces below A. */
async function subtree(store: TestStore): Promise<Record<'a' | 'b' | 'c' | 'd' | 'e', Json>> {
  const a = await space(store, 'A');
  const b = await space(store, 'B', a.key);
  const c = await space(store, 'C', b.key);
  const d = await create(store, 'D', 'Core#HttpProject', c.key, { kind: 'Core#HttpProject', info: { name: 'D' }, items: [], definitions: {} });
  const e = await create(store, 'E', 'Core#HttpProject', a.key);
  return { a, b, c, d, e };
}

async function visible(store: TestStore, files: Json[]): Promise<number[]> {
  return Promise.all(files.map(async (file) => (await call(store, `/files/${file.key}`)).status));
}

const childKeys = async (store: TestStore, parent: string) => (await call(store, `/files?parent=${parent}`)).body.items?.map((f: Json) => f.key).sort();

test('trash and restore a 3-level subtree', async () => {
  const store = await startTestStore();
  try {
    const { a, b, c, d, e } = await subtree(store);
    assert.equal((await call(store, `/files/${a.key}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await visible(store, [a, b, c, d, e]), [404, 404, 404, 404, 404]);
    assert.equal((await call(store, `/files/${d.key}?alt=media`)).status, 404);
    assert.equal((await call(store, `/files?parent=${b.key}`)).status, 404);
    assert.ok(!(await call(store, '/files')).body.items.some((f: Json) => f.key === a.key), 'gone from the root listing');
    const trash = await call(store, '/trash');
    assert.deepEqual(trash.body.items.map((f: Json) => [f.key, f.deleted]), [[a.key, true]], 'only the subtree root is a trash entry');
    assert.equal((await call(store, `/files/${b.key}`, { method: 'PATCH', body: [{ op: 'add', path: '/x', value: 1 }] })).status, 404);
    assert.equal((await call(store, `/files?parent=${c.key}`, { method: 'POST', body: { kind: 'Core#Space', info: { name: 'x' } } })).status, 404);

    const restored = await call(store, `/trash/${a.key}/restore`, { method: 'PUT' });
    assert.equal(restored.status, 200);
    assert.equal(restored.body.deleted, undefined);
    assert.deepEqual(await visible(store, [a, b, c, d, e]), [200, 200, 200, 200, 200]);
    assert.deepEqual(await childKeys(store, a.key), [b.key, e.key].sort());
    assert.deepEqual(await childKeys(store, c.key), [d.key]);
    assert.deepEqual(await (await store.api(`/files/${d.key}?alt=media`)).json(), { kind: 'Core#HttpProject', info: { name: 'D' }, items: [], definitions: {} });
    assert.deepEqual((await call(store, '/trash')).body.items, []);
    assert.equal((await call(store, `/trash/${a.key}/restore`, { method: 'PUT' })).status, 404, 'not in trash any more');
  } finally {
    await store.stop();
  }
});

test('a file trashed on its own stays in trash when its space is restored; a restore needs a live parent', async () => {
  const store = await startTestStore();
  try {
    const { a, b, c, d } = await subtree(store);
    await call(store, `/files/${d.key}`, { method: 'DELETE' });
    await call(store, `/files/${a.key}`, { method: 'DELETE' });
    assert.deepEqual((await call(store, '/trash')).body.items.map((f: Json) => f.key), [d.key, a.key]);
    const gone = await call(store, `/trash/${d.key}/restore`, { method: 'PUT' });
    assert.equal(gone.status, 409);
    assert.equal(gone.body.code, 'parent_gone');
    await call(store, `/trash/${a.key}/restore`, { method: 'PUT' });
    assert.deepEqual(await visible(store, [a, b, c, d]), [200, 200, 200, 404]);
    assert.equal((await call(store, `/trash/${d.key}/restore`, { method: 'PUT' })).status, 200);
    assert.deepEqual(await childKeys(store, c.key), [d.key]);
  } finally {
    await store.stop();
  }
});

test('the trash lists in pages; other users see neither the entries nor the files', async () => {
  const store = await startTestStore({}, { authenticator: users });
  try {
    await addFriend(store);
    const trashed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const file = await create(store, `t${i}`, 'Core#HttpProject');
      await call(store, `/files/${file.key}`, { method: 'DELETE' });
      trashed.push(file.key);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(store, `/trash?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((f: Json) => f.key));
      cursor = page.body.cursor;
    } while (cursor);
    assert.deepEqual(seen, trashed);
    assert.deepEqual((await call(store, '/trash', { token: 'user-friend' })).body.items, []);
    assert.equal((await call(store, `/trash/${trashed[0]}/restore`, { method: 'PUT', token: 'user-friend' })).status, 404);
    assert.equal((await call(store, `/trash/${trashed[0]}`, { method: 'DELETE', token: 'user-friend' })).status, 404);
    assert.equal((await call(store, '/trash', { method: 'DELETE' })).status, 204);
    assert.deepEqual((await call(store, '/trash')).body.items, []);
    assert.equal((await call(store, `/trash/${trashed[0]}/restore`, { method: 'PUT' })).status, 404);
  } finally {
    await store.stop();
  }
});

/** Records per section of a stopped store, the change feed and meta left out. */
async function countKeys(dataDir: string): Promise<Record<string, number>> {
  const storage = await openStoredRecords(dataDir);
  const counts: Record<string, number> = {};
  try {
    for await (const { section } of storage.records()) {
      // The change feed (with its path index) outlives the files it tells about, until compaction.
      if (section === 'changes' || section === 'changes-by-path' || section === 'meta') continue;
      counts[section] = (counts[section] ?? 0) + 1;
    }
  } finally {
    await storage.close();
  }
  return counts;
}

test('deleting for good leaves no orphan records: contents, revisions, grants and indexes go too', async () => {
  let store = await startTestStore({}, { authenticator: users });
  const { dataDir, token } = store;
  try {
    await space(store, 'kept');
    await addFriend(store);
    await store.stop({ keepData: true });
    const baseline = await countKeys(dataDir);

    store = await startTestStore({ dataDir, token }, { authenticator: users });
    const { a, b, c, d, e } = await subtree(store);
    await call(store, `/files/${d.key}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/requests/-', value: 1 }] });
    await call(store, `/files/${d.key}?alt=media`, { method: 'PUT', body: { requests: [2] } });
    await call(store, `/files/${b.key}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: friendKey, value: 'writer' }, { op: 'add', type: 'anyone', value: 'reader' }] });
    const friends = await call(store, `/files?parent=${c.key}`, { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: 'by friend' } }, token: 'user-friend' });
    assert.equal(friends.status, 201);
    await call(store, `/files/${e.key}`, { method: 'DELETE' });
    await call(store, `/files/${a.key}`, { method: 'DELETE' });
    assert.equal((await call(store, `/trash/${a.key}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await visible(store, [a, b, c, d, e]), [404, 404, 404, 404, 404]);
    assert.deepEqual((await call(store, '/shared', { token: 'user-friend' })).body.items, []);
    assert.deepEqual((await call(store, '/trash')).body.items, []);
    await store.stop({ keepData: true });
    // Only the six retired keys stay, so that no later file takes one of them.
    assert.deepEqual(await countKeys(dataDir), { ...baseline, 'file-keys-retired': 6 });
  } finally {
    await store.stop();
  }
});
