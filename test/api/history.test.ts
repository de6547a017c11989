import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Change } from '../../backend/src/store/changes.js';
import { signIn } from '../helpers/accounts.js';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam } from '../helpers/team.js';

interface Entry {
  key: string;
  user: string;
  kind: string;
  app: string;
  created: number;
  log: { request: { url: string; method: string } };
  space?: string;
  project?: string;
  request?: string;
}

interface Page {
  items: Entry[];
  cursor?: string;
}

function entry(url: string, extra: Record<string, unknown> = {}) {
  return {
    app: 'api-client',
    log: {
      request: { url, method: 'GET', headers: 'accept: */*', startTime: 1 },
      response: { status: 200, statusText: 'OK', headers: 'content-type: application/json', payload: '{}', timings: { wait: 3 } },
    },
    ...extra,
  };
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function createBatch(store: TestStore, entries: unknown[]): Promise<string[]> {
  return (await json<{ items: string[] }>(await store.api('/history/batch/create', { method: 'POST', body: entries }), 200)).items;
}

/** Every page of a list, following cursors. */
async function listAll(store: TestStore, query: string, limit = 500): Promise<Entry[]> {
  const items: Entry[] = [];
  let page = await json<Page>(await store.api(`/history?${query}&limit=${limit}`), 200);
  items.push(...page.items);
  while (page.cursor) {
    page = await json<Page>(await store.api(`/history?cursor=${encodeURIComponent(page.cursor)}&limit=${limit}`), 200);
    items.push(...page.items);
  }
  return items;
}

describe('history', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore({ history: { maxEntriesPerUser: 0, maxAgeDays: 0 } });
  });
  after(() => store.stop());

  test('POST /history stores one entry; GET and DELETE address it by key', async () => {
    const created = await store.api('/history', { method: 'POST', body: entry('https://api.example.test/one', { created: 1_700_000_000_000 }) });
    const body = await json<Entry>(created, 201);
    assert.equal(created.headers.get('Location'), `/v1/history/${body.key}`);
    assert.match(body.key, /^[0-9a-z]+$/);
    assert.equal(body.user, 'owner');
    assert.equal(body.kind, 'Core#HttpHistory');
    assert.equal(body.created, 1_700_000_000_000);
    assert.deepEqual(await json<Entry>(await store.api(`/history/${body.key}`), 200), body);

    assert.equal((await store.api(`/history/${body.key}`, { method: 'DELETE' })).status, 204);
    const gone = await json<{ code: string }>(await store.api(`/history/${body.key}`), 404);
    assert.equal(gone.code, 'history_entry_not_found');
    assert.equal((await json<{ code: string }>(await store.api(`/history/${body.key}`, { method: 'DELETE' }), 404)).code, 'history_entry_not_found');
  });

  test('the store announces history and app data, and documents their routes', async () => {
    const info = await json<{ capabilities: string[] }>(await store.api('/store'), 200);
    assert.ok(info.capabilities.includes('history') && info.capabilities.includes('app-data'));
    const doc = await json<{ paths: Record<string, unknown> }>(await store.api('/openapi.json'), 200);
    for (const path of ['/history', '/history/batch/create', '/history/{key}', '/app/{appId}/projects/batch/undelete', '/app/{appId}/requests/{key}']) {
      assert.ok(doc.paths[path], path);
    }
  });

  test('the server owns key, user and kind', async () => {
    const body = await json<Entry>(
      await store.api('/history', { method: 'POST', body: { ...entry('https://api.example.test/forged'), key: 'mine', user: 'someone-else' } }),
      201,
    );
    assert.notEqual(body.key, 'mine');
    assert.equal(body.user, 'owner');
  });

  test('invalid entries are 400 validation_failed with the offending paths', async () => {
    const noUrl = entry('x');
    delete (noUrl.log.request as { url?: string }).url;
    const problem = await json<{ code: string; errors: { path: string }[] }>(await store.api('/history', { method: 'POST', body: noUrl }), 400);
    assert.equal(problem.code, 'validation_failed');
    assert.ok(problem.errors.some((error) => error.path === 'json.log.request.url'), JSON.stringify(problem.errors));

    // An empty id is core's way of leaving it out (core-contract.test.ts); a control character is not an id.
    for (const bad of [entry('x', { app: 'a\u0000b' }), entry('x', { created: -1 }), entry('x', { space: 'a\u0001' }), { app: 'a' }, []]) {
      assert.equal((await json<{ code: string }>(await store.api('/history', { method: 'POST', body: bad }), 400)).code, 'validation_failed');
    }
    const tooMany = Array.from({ length: 1001 }, () => entry('x'));
    assert.equal((await store.api('/history/batch/create', { method: 'POST', body: tooMany })).status, 400);
    assert.equal((await store.api('/history/batch/create', { method: 'POST', body: [] })).status, 400);
    assert.equal((await store.api('/history?type=space')).status, 400, 'id is required for type=space');
    assert.equal((await store.api('/history?type=nobody')).status, 400);
    assert.equal((await store.api('/history?limit=501')).status, 400);
    assert.equal((await json<{ code: string }>(await store.api('/history?cursor=forged.cursor'), 400)).code, 'invalid_cursor');
  });

  test('10,000 entries of one millisecond have unique keys and list newest first, in creation order', async () => {
    const created = 1_600_000_000_000;
    const keys: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      keys.push(...(await createBatch(store, Array.from({ length: 1000 }, (_, i) => entry(`https://burst.example.test/${batch * 1000 + i}`, { created, app: 'burst' })))));
    }
    assert.equal(new Set(keys).size, 10_000);
    assert.deepEqual([...keys].sort(), keys, 'keys sort in creation order');
    const listed = await listAll(store, 'type=app&id=burst');
    assert.equal(listed.length, 10_000);
    assert.deepEqual(
      listed.map((item) => item.key),
      [...keys].reverse(),
    );
    assert.equal(listed[0].log.request.url, 'https://burst.example.test/9999');
  });

  test('lists page by page with a cursor that is absent on the last page', async () => {
    const keys = await createBatch(store, Array.from({ length: 7 }, (_, i) => entry(`https://paging.example.test/${i}`, { app: 'paging', created: 1_000 + i })));
    const first = await json<Page>(await store.api('/history?type=app&id=paging&limit=3'), 200);
    assert.deepEqual(first.items.map((item) => item.key), [keys[6], keys[5], keys[4]]);
    assert.ok(first.cursor);
    const second = await json<Page>(await store.api(`/history?cursor=${encodeURIComponent(first.cursor)}&limit=3`), 200);
    assert.deepEqual(second.items.map((item) => item.key), [keys[3], keys[2], keys[1]]);
    const last = await json<Page>(await store.api(`/history?cursor=${encodeURIComponent(second.cursor!)}&limit=3`), 200);
    assert.deepEqual(last.items.map((item) => item.key), [keys[0]]);
    assert.equal(last.cursor, undefined);
    const exact = await json<Page>(await store.api('/history?type=app&id=paging&limit=7'), 200);
    assert.equal(exact.items.length, 7);
    assert.equal(exact.cursor, undefined, 'a page that ends the list has no cursor');
  });

  test('every type filter lists its own entries', async () => {
    const attached = { app: 'filters', space: 'space-1', project: 'project-1', request: 'request-1' };
    const [both, onlyProject, onlyRequest, otherApp] = await createBatch(store, [
      entry('https://filters.example.test/both', attached),
      entry('https://filters.example.test/project', { app: 'filters', project: 'project-1' }),
      entry('https://filters.example.test/request', { app: 'filters', request: 'request-1' }),
      entry('https://filters.example.test/other-app', { app: 'filters-2', space: 'space-1' }),
    ]);
    const keysOf = async (query: string) => (await listAll(store, query)).map((item) => item.key);
    assert.deepEqual(await keysOf('type=space&id=space-1'), [otherApp, both]);
    assert.deepEqual(await keysOf('type=project&id=project-1'), [onlyProject, both]);
    assert.deepEqual(await keysOf('type=request&id=request-1'), [onlyRequest, both]);
    assert.deepEqual(await keysOf('type=app&id=filters'), [onlyRequest, onlyProject, both]);
    assert.deepEqual(await keysOf('type=app&id=filters-2'), [otherApp]);
    assert.deepEqual(await keysOf('type=space&id=space-2'), []);
    const mine = await keysOf('type=user');
    for (const key of [both, onlyProject, onlyRequest, otherApp]) assert.ok(mine.includes(key));
    assert.deepEqual(await keysOf('type=user&id=owner'), mine, 'type=user may name the caller');
    assert.equal((await json<{ code: string }>(await store.api('/history?type=user&id=someone-else'), 403)).code, 'forbidden_role');
  });

  test('query matches URL and method, case-insensitively', async () => {
    const [get, post] = await createBatch(store, [
      entry('https://query.example.test/Users/42', { app: 'query' }),
      { ...entry('https://query.example.test/orders', { app: 'query' }), log: { request: { url: 'https://query.example.test/orders', method: 'POST', headers: '', startTime: 2 } } },
    ]);
    const keysOf = async (query: string) => (await listAll(store, query)).map((item) => item.key);
    assert.deepEqual(await keysOf('type=app&id=query&query=users'), [get]);
    assert.deepEqual(await keysOf('type=app&id=query&query=post'), [post]);
    assert.deepEqual(await keysOf('type=app&id=query&query=QUERY.EXAMPLE'), [post, get]);
    assert.deepEqual(await keysOf('type=app&id=query&query=nothing-like-it'), []);
  });

  test('since keeps entries created at or after a time', async () => {
    const keys = await createBatch(store, [1_000, 2_000, 3_000].map((created) => entry('https://since.example.test/', { app: 'since', created })));
    const keysOf = async (query: string) => (await listAll(store, query)).map((item) => item.key);
    assert.deepEqual(await keysOf('type=app&id=since&since=2000'), [keys[2], keys[1]]);
    assert.deepEqual(await keysOf('type=app&id=since&since=3001'), []);
    const paged = await json<Page>(await store.api('/history?type=app&id=since&since=1000&limit=1'), 200);
    const rest = await listAll(store, `cursor=${encodeURIComponent(paged.cursor!)}`);
    assert.deepEqual([...paged.items, ...rest].map((item) => item.key), [keys[2], keys[1], keys[0]], 'the cursor keeps since');
  });

  test('batch/delete removes all the entries or none of them', async () => {
    const keys = await createBatch(store, [entry('https://delete.example.test/1', { app: 'delete' }), entry('https://delete.example.test/2', { app: 'delete' })]);
    const missing = await json<{ code: string; key: string }>(
      await store.api('/history/batch/delete', { method: 'POST', body: [keys[0], '0000000000000000000'] }),
      404,
    );
    assert.equal(missing.code, 'history_entry_not_found');
    assert.equal(missing.key, '0000000000000000000');
    assert.equal((await listAll(store, 'type=app&id=delete')).length, 2, 'nothing removed');

    assert.equal((await store.api('/history/batch/delete', { method: 'POST', body: [...keys, keys[0]] })).status, 204);
    assert.deepEqual(await listAll(store, 'type=app&id=delete'), []);
    assert.deepEqual(await listAll(store, 'type=user&query=delete.example.test'), []);
  });

  test('every write is a change on /history for the entry’s user', async () => {
    const changes: Change[] = [];
    const unsubscribe = store.running.services.store.onChanges((batch) => changes.push(...batch));
    try {
      const [key] = await createBatch(store, [entry('https://events.example.test/')]);
      assert.equal((await store.api(`/history/${key}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(
        changes.map(({ operation, kind, id, paths, visibility }) => ({ operation, kind, id, paths, visibility })),
        ['created', 'deleted'].map((operation) => ({ operation, kind: 'Core#HttpHistory', id: key, paths: ['/history'], visibility: { user: 'owner' } })),
      );
    } finally {
      unsubscribe();
    }
  });
});

test('retention prunes the oldest entries in the background after writes', async () => {
  const store = await startTestStore({ history: { maxEntriesPerUser: 5, maxAgeDays: 0 } });
  try {
    const removed: string[] = [];
    let done!: () => void;
    const pruned = new Promise<void>((resolve) => (done = resolve));
    store.running.services.store.onChanges((changes) => {
      for (const change of changes) if (change.operation === 'deleted') removed.push(change.id);
      if (removed.length >= 3) done();
    });
    const keys = await createBatch(store, Array.from({ length: 8 }, (_, i) => entry(`https://retention.example.test/${i}`, { created: 10_000 + i })));
    await pruned;
    assert.deepEqual(removed, keys.slice(0, 3));
    assert.deepEqual((await listAll(store, 'type=user')).map((item) => item.key), keys.slice(3).reverse());
  } finally {
    await store.stop();
  }
});

test("one teammate's history flood never evicts another user's entries", async () => {
  const team = await startTeam({ history: { maxEntriesPerUser: 5, maxAgeDays: 0 } });
  try {
    const removed: string[] = [];
    let flooded!: () => void;
    const bobPruned = new Promise<void>((resolve) => (flooded = resolve));
    team.store.running.services.store.onChanges((changes) => {
      for (const change of changes) if (change.operation === 'deleted') removed.push(change.id);
      if (removed.length >= 35) flooded();
    });
    const write = async (user: typeof team.alice, entries: unknown[]) => {
      const res = await team.call(user, '/history/batch/create', { method: 'POST', body: entries });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.items as string[];
    };
    const keysOf = async (user: typeof team.alice) => {
      const res = await team.call(user, '/history?type=user&limit=100');
      assert.equal(res.status, 200);
      return (res.body.items as Entry[]).map((item) => item.key);
    };
    // Alice and the admin each keep a few entries, older than anything bob writes.
    const alices = await write(team.alice, [1, 2, 3, 4].map((i) => entry(`https://alice.test/${i}`, { created: 1_000 + i })));
    const admins = await write(team.admin, [1, 2, 3].map((i) => entry(`https://admin.test/${i}`, { created: 1_100 + i })));

    // Bob floods: 4 batches of 10, far over the limit.
    const bobs: string[] = [];
    for (let batch = 0; batch < 4; batch++) {
      bobs.push(...(await write(team.bob, Array.from({ length: 10 }, (_, i) => entry(`https://bob.test/${batch}/${i}`, { created: 2_000 + batch * 10 + i })))));
    }
    await bobPruned;

    assert.deepEqual(await keysOf(team.alice), [...alices].reverse(), "all of alice's entries remain");
    assert.deepEqual(await keysOf(team.admin), [...admins].reverse(), "all of the admin's entries remain");
    assert.deepEqual(await keysOf(team.bob), bobs.slice(-5).reverse(), "bob keeps his newest 5");
    assert.deepEqual(removed.sort(), bobs.slice(0, 35).sort(), "only bob's oldest were removed");
  } finally {
    await team.stop();
  }
});

test('users see their own entries and those attached to spaces and projects they can read', async () => {
  const store = await startTestStore({ mode: 'multi-user', insecureHttp: true, history: { maxEntriesPerUser: 0, maxAgeDays: 0 } });
  try {
    const [alice, bob] = [await signIn(store, 'alice'), await signIn(store, 'bob')];
    const as = (user: { token: string }, path: string, init: { method?: string; body?: unknown } = {}) => store.api(path, { ...init, token: user.token });
    const keysOf = async (user: { token: string }, query: string) => (await json<Page>(await as(user, `/history?${query}`), 200)).items.map((item) => item.key);

    const shared = await json<{ key: string }>(await as(alice, '/files', { method: 'POST', body: { kind: 'Core#Space', info: { name: 'Team' } } }), 201);
    const privateSpace = await json<{ key: string }>(await as(alice, '/files', { method: 'POST', body: { kind: 'Core#Space', info: { name: 'Mine' } } }), 201);
    const sharedProject = await json<{ key: string }>(
      await as(alice, `/files?parent=${shared.key}`, { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: 'API' } } }),
      201,
    );
    assert.equal((await as(alice, `/files/${shared.key}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: 'reader' }] })).status, 200);

    const [own, inShared, inProject, inPrivate] = (
      await json<{ items: string[] }>(
        await as(alice, '/history/batch/create', {
          method: 'POST',
          body: [
            entry('https://alice.test/own', { request: 'r-1' }),
            entry('https://alice.test/shared', { space: shared.key, request: 'r-1' }),
            entry('https://alice.test/project', { project: sharedProject.key, request: 'r-1' }),
            entry('https://alice.test/private', { space: privateSpace.key, request: 'r-1' }),
          ],
        }),
        200,
      )
    ).items;
    const [bobs] = (await json<{ items: string[] }>(await as(bob, '/history/batch/create', { method: 'POST', body: [entry('https://bob.test/', { request: 'r-1' })] }), 200)).items;

    assert.deepEqual(await keysOf(alice, 'type=user'), [inPrivate, inProject, inShared, own]);
    assert.deepEqual(await keysOf(bob, 'type=user'), [bobs], 'type=user is the caller’s own history');
    assert.deepEqual(await keysOf(bob, 'type=app&id=api-client'), [bobs]);
    assert.deepEqual(await keysOf(bob, `type=space&id=${shared.key}`), [inShared]);
    assert.deepEqual(await keysOf(bob, `type=project&id=${sharedProject.key}`), [inProject]);
    assert.deepEqual(await keysOf(bob, `type=space&id=${privateSpace.key}`), []);
    assert.deepEqual(await keysOf(bob, 'type=request&id=r-1'), [bobs, inProject, inShared], 'only what bob may see');
    assert.deepEqual(await keysOf(alice, 'type=request&id=r-1'), [bobs, inPrivate, inProject, inShared, own].filter((key) => key !== bobs));

    assert.equal((await as(bob, `/history/${inShared}`)).status, 200);
    for (const key of [own, inPrivate]) {
      assert.equal((await json<{ code: string }>(await as(bob, `/history/${key}`), 404)).code, 'history_entry_not_found');
      assert.equal((await as(bob, `/history/${key}`, { method: 'DELETE' })).status, 404);
    }
    assert.equal((await json<{ code: string }>(await as(bob, `/history/${inShared}`, { method: 'DELETE' }), 403)).code, 'forbidden_role', 'a reader does not remove others’ entries');
    assert.equal((await as(bob, '/history/batch/delete', { method: 'POST', body: [bobs, own] })).status, 404);
    assert.equal((await as(bob, `/history/${bobs}`)).status, 200, 'a failed batch removes nothing');
    assert.equal((await as(bob, '/history', { method: 'POST', body: entry('https://bob.test/', { space: privateSpace.key }) })).status, 404, 'no attaching to a space one cannot read');

    assert.equal((await as(alice, `/files/${shared.key}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: 'writer' }] })).status, 200);
    assert.equal((await as(bob, `/history/${inShared}`, { method: 'DELETE' })).status, 204, 'a writer of the space does');
    assert.deepEqual(await keysOf(alice, `type=space&id=${shared.key}`), []);
  } finally {
    await store.stop();
  }
});
