import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Change } from '../../backend/src/store/changes.js';
import { signIn } from '../helpers/accounts.js';
import { EventSocket } from '../helpers/event-socket.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

interface AppRecord {
  key: string;
  created: number;
  updated: number;
  deleted?: true;
  info: { name: string; description?: string };
  [field: string]: unknown;
}

interface Page {
  items: AppRecord[];
  cursor?: string;
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

const project = (name: string, extra: Record<string, unknown> = {}) => ({ kind: 'Core#AppProject', info: { name }, ...extra });

describe('app data', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore();
  });
  after(() => store.stop());

  const createMany = async (path: string, records: unknown[]) =>
    (await json<{ items: AppRecord[] }>(await store.api(`${path}/batch/create`, { method: 'POST', body: records }), 200)).items;

  /** Every page of a list, following cursors (which carry `since` or `query`). */
  async function listAll(path: string, query = '', limit = 2): Promise<AppRecord[]> {
    const items: AppRecord[] = [];
    let page = await json<Page>(await store.api(`${path}?limit=${limit}${query}`), 200);
    items.push(...page.items);
    while (page.cursor) {
      page = await json<Page>(await store.api(`${path}?limit=${limit}&cursor=${encodeURIComponent(page.cursor)}`), 200);
      items.push(...page.items);
    }
    return items;
  }

  test('POST creates a record; GET, PATCH and DELETE address it by key', async () => {
    const path = '/app/crud-app/projects';
    const response = await store.api(path, { method: 'POST', body: { ...project('One'), created: 1, updated: 2, deleted: true } });
    const created = await json<AppRecord>(response, 201);
    assert.equal(response.headers.get('Location'), `/v1${path}/${created.key}`);
    assert.match(created.key, /^[0-9a-z]+$/, 'the store makes a key when the client gives none (a client key is kept: core-contract.test.ts)');
    assert.equal(created.deleted, undefined);
    assert.equal(created.created, created.updated);
    assert.equal(created.kind, 'Core#AppProject', 'client fields are kept');
    assert.deepEqual(await json<AppRecord>(await store.api(`${path}/${created.key}`), 200), created);

    const patched = await json<AppRecord & { revert: unknown[] }>(
      await store.api(`${path}/${created.key}`, { method: 'PATCH', body: { app: 'test', appVersion: '1', patch: [{ op: 'replace', path: '/info/name', value: 'Two' }] } }),
      200,
    );
    assert.equal(patched.info.name, 'Two');
    assert.ok(patched.updated > created.updated, 'updated changes on every write');
    assert.deepEqual(patched.revert, [{ op: 'replace', path: '/info/name', value: 'One' }]);
    const { revert, ...stored } = patched;
    assert.deepEqual(await json<AppRecord>(await store.api(`${path}/${created.key}`), 200), stored);

    const reverted = await json<AppRecord>(await store.api(`${path}/${created.key}`, { method: 'PATCH', body: revert }), 200);
    assert.equal(reverted.info.name, 'One', 'sending revert back restores the record');

    assert.equal((await store.api(`${path}/${created.key}`, { method: 'DELETE' })).status, 204);
    assert.equal((await json<{ code: string }>(await store.api(`${path}/${created.key}`), 404)).code, 'app_record_not_found');
    assert.equal((await json<{ code: string }>(await store.api(`${path}/${created.key}`, { method: 'DELETE' }), 404)).code, 'app_record_not_found');
    assert.equal((await store.api(`${path}/${created.key}`, { method: 'PATCH', body: [{ op: 'add', path: '/a', value: 1 }] })).status, 404);
  });

  test('PATCH cannot touch server fields, nor remove info.name; a failing patch changes nothing', async () => {
    const path = '/app/patch-app/requests';
    const [record] = await createMany(path, [{ info: { name: 'R' }, expects: { url: 'https://x.test', method: 'GET' } }]);
    for (const patch of [
      [{ op: 'replace', path: '/updated', value: 1 }],
      [{ op: 'remove', path: '/deleted' }],
      [{ op: 'replace', path: '', value: { info: { name: 'whole' } } }],
      [{ op: 'copy', from: '/key', path: '/other' }],
    ]) {
      const problem = await json<{ code: string }>(await store.api(`${path}/${record.key}`, { method: 'PATCH', body: patch }), 400);
      assert.equal(problem.code, 'protected_field', JSON.stringify(patch));
    }
    assert.equal(
      (await json<{ code: string }>(await store.api(`${path}/${record.key}`, { method: 'PATCH', body: [{ op: 'remove', path: '/info/name' }] }), 400)).code,
      'invalid_patch',
    );
    const failing = [
      { op: 'replace', path: '/info/name', value: 'changed' },
      { op: 'test', path: '/expects/method', value: 'POST' },
    ];
    assert.equal((await json<{ code: string }>(await store.api(`${path}/${record.key}`, { method: 'PATCH', body: failing }), 400)).code, 'invalid_patch');
    assert.deepEqual(await json<AppRecord>(await store.api(`${path}/${record.key}`), 200), record);
  });

  test('invalid input is 400 validation_failed', async () => {
    for (const [path, body] of [
      ['/app/ok/projects', { name: 'no info' }],
      ['/app/ok/projects', { info: { name: 3 } }],
      ['/app/ok/projects', [project('array is not a record')]],
      ['/app/bad%20id/projects', project('x')],
      ['/app/ok/projects/batch/create', []],
      ['/app/ok/projects/batch/read', { keys: ['a'] }],
    ] as const) {
      assert.equal((await json<{ code: string }>(await store.api(path, { method: 'POST', body }), 400)).code, 'validation_failed', path);
    }
    assert.equal((await store.api('/app/ok/others')).status, 404, 'only projects and requests exist');
    assert.equal((await store.api('/app/ok/projects/query')).status, 400, 'query needs a text');
    assert.equal((await store.api('/app/ok/projects?cursor=forged')).status, 400);
    assert.equal((await store.api('/app/ok/projects/batch/create', { method: 'POST', body: Array.from({ length: 1001 }, () => project('x')) })).status, 400);
  });

  test('the plain list pages live records in creation order', async () => {
    const path = '/app/list-app/projects';
    const records = await createMany(path, ['a', 'b', 'c', 'd', 'e'].map((name) => project(name)));
    assert.deepEqual(records.map((record) => record.info.name), ['a', 'b', 'c', 'd', 'e']);
    const first = await json<Page>(await store.api(`${path}?limit=2`), 200);
    assert.deepEqual(first.items.map((record) => record.key), [records[0].key, records[1].key]);
    assert.ok(first.cursor);
    assert.deepEqual(await listAll(path), records);
    const exact = await json<Page>(await store.api(`${path}?limit=5`), 200);
    assert.equal(exact.cursor, undefined);

    assert.equal((await store.api(`${path}/batch/delete`, { method: 'POST', body: [records[1].key] })).status, 204);
    assert.deepEqual((await listAll(path)).map((record) => record.info.name), ['a', 'c', 'd', 'e']);
  });

  test('since lists every change at or after a time, deletions included as tombstones', async () => {
    const path = '/app/sync-app/requests';
    const records = await createMany(path, ['one', 'two', 'three'].map((name) => ({ info: { name } })));
    const everything = await listAll(path, '&since=0');
    assert.deepEqual(everything, records);
    const mark = Math.max(...everything.map((record) => record.updated));

    // Two writes in the same millisecond as the mark still move `updated` past it.
    await json(await store.api(`${path}/${records[0].key}`, { method: 'PATCH', body: [{ op: 'add', path: '/info/description', value: 'x' }] }), 200);
    assert.equal((await store.api(`${path}/batch/delete`, { method: 'POST', body: [records[1].key] })).status, 204);
    const changed = await listAll(path, `&since=${mark + 1}`);
    assert.deepEqual(
      changed.map((record) => [record.key, record.deleted ?? false, record.info.description]),
      [
        [records[0].key, false, 'x'],
        [records[1].key, true, undefined],
      ],
    );
    for (const record of changed) assert.ok(record.updated > mark);

    const batch = await json<{ items: (AppRecord | null)[] }>(
      await store.api(`${path}/batch/read`, { method: 'POST', body: [records[1].key, records[2].key, 'nope'] }),
      200,
    );
    assert.deepEqual(batch.items, [null, records[2], null]);
  });

  test('undelete restores records, all or none, and since sees it', async () => {
    const path = '/app/undelete-app/projects';
    const [kept, removed] = await createMany(path, [project('kept'), project('removed')]);
    assert.equal((await store.api(`${path}/batch/delete`, { method: 'POST', body: [removed.key, kept.key] })).status, 204);
    const deleted = (await listAll(path, '&since=0')).find((record) => record.key === removed.key)!;
    assert.equal(deleted.deleted, true);

    const missing = await json<{ code: string; key: string }>(
      await store.api(`${path}/batch/undelete`, { method: 'POST', body: [removed.key, 'nope'] }),
      404,
    );
    assert.deepEqual([missing.code, missing.key], ['app_record_not_found', 'nope']);
    assert.equal((await store.api(`${path}/${removed.key}`)).status, 404, 'nothing restored');

    const restored = await json<{ items: AppRecord[] }>(await store.api(`${path}/batch/undelete`, { method: 'POST', body: [removed.key, kept.key] }), 200);
    assert.deepEqual(restored.items.map((record) => [record.key, record.deleted]), [[removed.key, undefined], [kept.key, undefined]]);
    assert.ok(restored.items[0].updated > deleted.updated);
    assert.deepEqual(await json<AppRecord>(await store.api(`${path}/${removed.key}`), 200), restored.items[0]);
    assert.deepEqual((await listAll(path)).map((record) => record.key), [kept.key, removed.key]);
    const sync = await listAll(path, `&since=${restored.items[0].updated}`);
    assert.ok(sync.some((record) => record.key === removed.key && !record.deleted));
  });

  test('batch/delete of an unknown key deletes nothing', async () => {
    const path = '/app/atomic-app/projects';
    const [record] = await createMany(path, [project('stays')]);
    assert.equal((await store.api(`${path}/batch/delete`, { method: 'POST', body: [record.key, 'nope'] })).status, 404);
    assert.deepEqual(await json<AppRecord>(await store.api(`${path}/${record.key}`), 200), record);
  });

  test('query finds live records by name, description and request URL or method', async () => {
    const path = '/app/query-app/requests';
    const [users, orders, gone] = await createMany(path, [
      { info: { name: 'List users' }, expects: { url: 'https://api.test/users', method: 'GET' } },
      { info: { name: 'Create', description: 'Makes an ORDER' }, expects: { url: 'https://api.test/orders', method: 'POST' } },
      { info: { name: 'Old users call' } },
    ]);
    assert.equal((await store.api(`${path}/batch/delete`, { method: 'POST', body: [gone.key] })).status, 204);
    const keysOf = async (text: string) => (await listAll(`${path}/query`, `&query=${encodeURIComponent(text)}`, 1)).map((record) => record.key);
    assert.deepEqual(await keysOf('users'), [users.key]);
    assert.deepEqual(await keysOf('order'), [orders.key]);
    assert.deepEqual(await keysOf('post'), [orders.key]);
    assert.deepEqual(await keysOf('API.TEST'), [users.key, orders.key]);
    assert.deepEqual(await keysOf('absent'), []);
  });

  test('one app never sees another app’s records, nor projects the requests', async () => {
    const [mine] = await createMany('/app/app-one/projects', [project('one')]);
    assert.deepEqual(await listAll('/app/app-two/projects', '&since=0'), []);
    assert.equal((await store.api(`/app/app-two/projects/${mine.key}`)).status, 404);
    assert.equal((await store.api(`/app/app-one/requests/${mine.key}`)).status, 404);
    assert.equal((await store.api(`/app/app-two/projects/${mine.key}`, { method: 'DELETE' })).status, 404);
    assert.equal((await store.api(`/app/app-two/projects/batch/delete`, { method: 'POST', body: [mine.key] })).status, 404);
    assert.deepEqual(
      (await json<{ items: unknown[] }>(await store.api('/app/app-two/projects/batch/read', { method: 'POST', body: [mine.key] }), 200)).items,
      [null],
    );
    assert.deepEqual(await json<AppRecord>(await store.api(`/app/app-one/projects/${mine.key}`), 200), mine);
  });

  test('an observer of one app’s collection gets its events, and no other app’s', async () => {
    const socket = await EventSocket.open(store.baseUrl, store.token);
    try {
      assert.equal((await socket.command(0, '/app/ws-app/projects')).type, 'ack');
      await createMany('/app/other-app/projects', [project('elsewhere')]);
      await createMany('/app/ws-app/requests', [{ info: { name: 'not a project' } }]);
      const [record] = await createMany('/app/ws-app/projects', [project('here')]);
      const event = await socket.next();
      assert.deepEqual(
        { type: event.type, operation: event.operation, kind: event.kind, id: event.id, data: event.data },
        { type: 'event', operation: 'created', kind: 'Core#AppProject', id: record.key, data: record },
      );
      assert.equal(socket.pending, 0);
    } finally {
      await socket.close();
    }
  });

  test('every write is a change on the collection’s path for the user', async () => {
    const changes: Change[] = [];
    const unsubscribe = store.running.services.store.onChanges((batch) => changes.push(...batch));
    try {
      const path = '/app/events-app/projects';
      const [record] = await createMany(path, [project('e')]);
      await json(await store.api(`${path}/${record.key}`, { method: 'PATCH', body: [{ op: 'add', path: '/x', value: 1 }] }), 200);
      assert.equal((await store.api(`${path}/${record.key}`, { method: 'DELETE' })).status, 204);
      await json(await store.api(`${path}/batch/undelete`, { method: 'POST', body: [record.key] }), 200);
      assert.deepEqual(
        changes.map(({ operation, kind, id, paths, visibility }) => ({ operation, kind, id, paths, visibility })),
        ['created', 'patch', 'deleted', 'created'].map((operation) => ({
          operation,
          kind: 'Core#AppProject',
          id: record.key,
          paths: ['/app/events-app/projects'],
          visibility: { user: 'owner' },
        })),
      );
      assert.deepEqual(changes[1].data, { patch: [{ op: 'add', path: '/x', value: 1 }], revert: [{ op: 'remove', path: '/x' }] });
    } finally {
      unsubscribe();
    }
  });
});

test('one user never sees another user’s records of the same app', async () => {
  const store = await startTestStore({ mode: 'multi-user', insecureHttp: true });
  try {
    const [alice, bob] = [await signIn(store, 'alice'), await signIn(store, 'bob')];
    const path = '/app/shared-app/projects';
    const created = await store.api(path, { method: 'POST', token: alice.token, body: project('alice’s') });
    const record = await json<AppRecord>(created, 201);
    const bobs = await json<Page>(await store.api(`${path}?since=0`, { token: bob.token }), 200);
    assert.deepEqual(bobs.items, []);
    assert.deepEqual((await json<Page>(await store.api(`${path}/query?query=alice`, { token: bob.token }), 200)).items, []);
    for (const [method, suffix, body] of [
      ['GET', `/${record.key}`, undefined],
      ['PATCH', `/${record.key}`, [{ op: 'add', path: '/x', value: 1 }]],
      ['DELETE', `/${record.key}`, undefined],
      ['POST', '/batch/delete', [record.key]],
      ['POST', '/batch/undelete', [record.key]],
    ] as const) {
      assert.equal((await store.api(`${path}${suffix}`, { method, body, token: bob.token })).status, 404, `${method} ${suffix}`);
    }
    assert.deepEqual(await json<AppRecord>(await store.api(`${path}/${record.key}`, { token: alice.token }), 200), record);
  } finally {
    await store.stop();
  }
});
