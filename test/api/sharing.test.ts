import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Authenticator } from '../../backend/src/auth/caller.js';
import { roles, type Role } from '../../backend/src/store/access.js';
import { createUser } from '../../backend/src/store/users.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

type Json = Record<string, any>;

/**
 * Several users over real HTTP: accounts made through the storage layer, and bearer `user-<name>`
 * is that account (the launch token stays the owner).
 */
const accounts = new Map<string, string>();
const users: Authenticator = (credential) => {
  const key = accounts.get(credential.replace(/^user-/, ''));
  return key ? { user: key, admin: false } : undefined;
};
const as = (name: string) => ({ token: `user-${name}` });

/** The key of the account called `name`, created on first use. */
async function account(store: TestStore, name: string): Promise<string> {
  if (!accounts.has(name)) accounts.set(name, (await createUser(store.running.services.store, { name, admin: false })).key);
  return accounts.get(name)!;
}

async function call(store: TestStore, path: string, init: Parameters<TestStore['api']>[1] = {}): Promise<{ status: number; body: Json }> {
  const response = await store.api(path, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

async function create(store: TestStore, body: Json, parent?: string): Promise<Json> {
  const { status, body: created } = await call(store, `/files${parent ? `?parent=${parent}` : ''}`, { method: 'POST', body });
  assert.equal(status, 201, JSON.stringify(created));
  return created;
}

async function grant(store: TestStore, key: string, ops: Json[], token?: string): Promise<{ status: number; body: Json }> {
  return call(store, `/files/${key}/users`, { method: 'PATCH', body: ops, ...(token ? { token } : {}) });
}

/** A space `top` holding a space `target` (with contents) holding a project. */
async function tree(store: TestStore): Promise<{ top: Json; target: Json; child: Json }> {
  const top = await create(store, { kind: 'Core#Space', info: { name: 'top' } });
  const { status, body: target } = await call(store, `/files?alt=media&parent=${top.key}`, { method: 'POST', body: { meta: { kind: 'Core#Space', info: { name: 'target' } }, media: { n: 1 } } });
  assert.equal(status, 201);
  const child = await create(store, { kind: 'Core#HttpProject', info: { name: 'child' } }, target.key);
  return { top, target, child };
}

describe('access control matrix', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore({}, { authenticator: users });
  });
  after(() => store.stop());

  const levels: (Role | 'none')[] = ['none', ...roles];
  for (const via of ['direct', 'ancestor'] as const) {
    for (const level of levels) {
      test(`${level} granted ${via === 'direct' ? 'on the space itself' : 'on an ancestor space'}`, async () => {
        const user = `${level}${via}`;
        const id = await account(store, user);
        const { top, target, child } = await tree(store);
        if (level !== 'none') {
          const granted = await grant(store, via === 'direct' ? target.key : top.key, [{ op: 'add', type: 'user', id, value: level }]);
          assert.equal(granted.status, 200, JSON.stringify(granted.body));
        }
        const rank = level === 'none' ? -1 : roles.indexOf(level);
        /** 404 for no role; 403 below the needed role; `ok` at or above it. */
        const expect = (needed: Role, ok: number) => (rank < 0 ? 404 : rank >= roles.indexOf(needed) ? ok : 403);
        const me = as(user);
        const key = target.key;
        const checks: [string, number, Promise<{ status: number; body: Json }>][] = [
          ['GET file', expect('reader', 200), call(store, `/files/${key}`, me)],
          ['GET contents', expect('reader', 200), call(store, `/files/${key}?alt=media`, me)],
          ['GET child', expect('reader', 200), call(store, `/files/${child.key}`, me)],
          ['GET list', expect('reader', 200), call(store, `/files?parent=${key}`, me)],
          ['GET revisions', expect('reader', 200), call(store, `/files/${key}/revisions`, me)],
          ['GET breadcrumbs', expect('reader', 200), call(store, `/files/${key}/breadcrumbs`, me)],
          ['GET users', expect('reader', 200), call(store, `/files/${key}/users`, me)],
        ];
        for (const [name, status, pending] of checks) assert.equal((await pending).status, status, name);

        const batch = await call(store, '/files/batch', { method: 'POST', body: [key, child.key], ...me });
        assert.deepEqual(batch.body.items.map((item: Json | null) => item?.key ?? null), rank < 0 ? [null, null] : [key, child.key]);

        const others = [await account(store, 'someoneelse'), await account(store, 'another')];
        const readers = [key, child.key].map((k) => call(store, `/files/${k}`));
        const [targetBefore] = await Promise.all(readers);
        const writes: [string, number, () => Promise<{ status: number; body: Json }>][] = [
          ['PATCH file', expect('writer', 200), () => call(store, `/files/${key}`, { method: 'PATCH', body: [{ op: 'add', path: '/touched', value: user }], ...me })],
          ['PATCH contents', expect('writer', 200), () => call(store, `/files/${key}?alt=media`, { method: 'PATCH', body: [{ op: 'replace', path: '/n', value: 2 }], ...me })],
          ['PUT contents', expect('writer', 200), () => call(store, `/files/${key}?alt=media`, { method: 'PUT', body: { n: 3 }, ...me })],
          ['POST child', expect('writer', 201), () => call(store, `/files?parent=${key}`, { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: 'by user' } }, ...me })],
          ['PATCH users', expect('owner', 200), () => grant(store, key, [{ op: 'add', type: 'user', id: others[0], value: 'reader' }], me.token)],
          ['PATCH users (grant owner)', expect('owner', 200), () => grant(store, key, [{ op: 'add', type: 'user', id: others[1], value: 'owner' }], me.token)],
        ];
        for (const [name, status, run] of writes) {
          const result = await run();
          assert.equal(result.status, status, `${name}: ${JSON.stringify(result.body)}`);
          if (status === 403) assert.equal(result.body.code, 'forbidden_role');
          if (status === 404) assert.match(result.body.code, /^(file|parent)_not_found$/);
        }
        if (rank < roles.indexOf('writer')) {
          const after = await call(store, `/files/${key}`);
          assert.deepEqual(after.body, targetBefore.body, 'refused writes changed nothing');
          const contents = await store.api(`/files/${key}?alt=media`);
          assert.equal(contents.headers.get('ETag'), '"1"', 'a refused contents patch stored nothing');
        }

        const shared = await call(store, '/shared', me);
        const sharedKeys = shared.body.items.map((item: Json) => item.key);
        assert.deepEqual(sharedKeys, rank < 0 ? [] : [via === 'direct' ? key : top.key]);

        // Deleting: owners only; then restoring and deleting for good, also owners only.
        assert.equal((await call(store, `/files/${key}`, { method: 'DELETE', ...me })).status, expect('owner', 204), 'DELETE file');
        if (rank < roles.indexOf('owner')) assert.equal((await call(store, `/files/${key}`, { method: 'DELETE' })).status, 204);
        assert.equal((await call(store, `/files/${child.key}`, me)).status, 404, 'a trashed subtree is invisible');
        assert.equal((await call(store, `/trash/${key}/restore`, { method: 'PUT', ...me })).status, expect('owner', 200), 'restore');
        if (rank < roles.indexOf('owner')) assert.equal((await call(store, `/trash/${key}/restore`, { method: 'PUT' })).status, 200);
        assert.equal((await call(store, `/files/${key}`, { method: 'DELETE' })).status, 204);
        assert.equal((await call(store, `/trash/${key}`, { method: 'DELETE', ...me })).status, expect('owner', 204), 'DELETE from trash');
      });
    }
  }

  test('the nearest grant wins; ownership of an ancestor always makes an owner', async () => {
    const { top, target, child } = await tree(store);
    const near = await account(store, 'near');
    await grant(store, top.key, [{ op: 'add', type: 'user', id: near, value: 'writer' }]);
    await grant(store, target.key, [{ op: 'add', type: 'user', id: near, value: 'reader' }]);
    const patch = { method: 'PATCH', body: [{ op: 'add', path: '/x', value: 1 }] };
    assert.equal((await call(store, `/files/${top.key}`, { ...patch, ...as('near') })).status, 200);
    assert.equal((await call(store, `/files/${target.key}`, { ...patch, ...as('near') })).status, 403);
    assert.equal((await call(store, `/files/${child.key}`, { ...patch, ...as('near') })).status, 403, 'inherits the nearer reader grant');

    // A writer's file in the owner's space: the space owner still owns it.
    const writer = await account(store, 'writer1');
    await grant(store, target.key, [{ op: 'add', type: 'user', id: writer, value: 'writer' }]);
    const own = await call(store, `/files?parent=${target.key}`, { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: 'mine' } }, ...as('writer1') });
    assert.equal(own.body.owner, writer);
    assert.equal((await grant(store, own.body.key, [{ op: 'add', type: 'user', id: writer, value: 'reader' }])).status, 200);
    assert.equal((await call(store, `/files/${own.body.key}`, { method: 'DELETE', ...as('writer1') })).status, 204, 'the creator owns it');
    assert.equal((await call(store, `/trash/${own.body.key}/restore`, { method: 'PUT' })).status, 200, 'the space owner owns it too');
  });

  test('anyone grants reach every user; they cannot make owners', async () => {
    const { target, child } = await tree(store);
    const stranger = await account(store, 'stranger');
    assert.equal((await call(store, `/files/${child.key}`, as('stranger'))).status, 404);
    assert.equal((await grant(store, target.key, [{ op: 'add', type: 'anyone', value: 'reader' }])).status, 200);
    assert.equal((await call(store, `/files/${child.key}`, as('stranger'))).status, 200);
    assert.deepEqual((await call(store, '/shared', as('stranger'))).body.items, [], 'anyone grants are not listed as shared');
    assert.equal((await grant(store, target.key, [{ op: 'add', type: 'user', id: stranger, value: 'writer' }])).status, 200);
    assert.equal((await call(store, `/files/${child.key}`, { method: 'PATCH', body: [{ op: 'add', path: '/x', value: 1 }], ...as('stranger') })).status, 200, 'the higher of user and anyone grants');
    const bad = await grant(store, target.key, [{ op: 'add', type: 'anyone', value: 'owner' }]);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation_failed');
    assert.equal((await grant(store, target.key, [{ op: 'add', type: 'user', value: 'reader' }])).status, 400, 'a user grant needs an id');
    const removed = await grant(store, target.key, [{ op: 'remove', type: 'anyone' }, { op: 'remove', type: 'user', id: stranger }]);
    assert.deepEqual(removed.body.items, []);
    assert.equal((await call(store, `/files/${child.key}`, as('stranger'))).status, 404);
  });

  test('grants list on the file, shared lists pages and leaves trashed files out', async () => {
    const made: string[] = [];
    const pager = await account(store, 'pager');
    for (let i = 0; i < 5; i++) {
      const file = await create(store, { kind: 'Core#HttpProject', info: { name: `s${i}` } });
      await grant(store, file.key, [{ op: 'add', type: 'user', id: pager, value: 'commenter' }]);
      made.push(file.key);
    }
    const listed = await call(store, `/files/${made[0]}/users`);
    assert.deepEqual(listed.body.items.map((g: Json) => [g.type, g.id, g.role, g.grantedBy]), [['user', pager, 'commenter', 'owner']]);
    await call(store, `/files/${made[4]}`, { method: 'DELETE' });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(store, `/shared?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, as('pager'));
      seen.push(...page.body.items.map((item: Json) => item.key));
      cursor = page.body.cursor;
    } while (cursor);
    assert.deepEqual(seen.sort(), made.slice(0, 4).sort());
  });
});
