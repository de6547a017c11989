import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { verifyStore } from '../../backend/src/store/verify.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

type Json = Record<string, any>;

const space = (name: string, extra: Json = {}) => ({ kind: 'Core#Space', info: { name }, ...extra });
const project = (name: string, extra: Json = {}) => ({ kind: 'Core#HttpProject', info: { name }, ...extra });
/** A kind whose contents are free-form JSON (a project's contents must be a project document). */
const note = (name: string) => ({ kind: 'Core#Note', info: { name } });

async function expectProblem(response: Response, status: number, code: string): Promise<Json> {
  const body = (await response.json()) as Json;
  assert.equal(response.status, status, JSON.stringify(body));
  assert.equal(body.code, code);
  assert.match(response.headers.get('Content-Type') ?? '', /^application\/problem\+json/);
  return body;
}

/** Creates a file and returns the created record (201 expected). */
async function create(store: TestStore, body: Json, parent?: string, query = ''): Promise<Json> {
  const params = new URLSearchParams(query);
  if (parent) params.set('parent', parent);
  const qs = params.size ? `?${params}` : '';
  const response = await store.api(`/files${qs}`, { method: 'POST', body });
  const created = (await response.json()) as Json;
  assert.equal(response.status, 201, JSON.stringify(created));
  return created;
}

/** Reads every page of a listing; asserts no page is larger than `limit`. */
async function listAll(store: TestStore, query: string, limit: number): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | undefined;
  do {
    const qs = cursor ? `cursor=${encodeURIComponent(cursor)}&limit=${limit}` : `${query}&limit=${limit}`;
    const response = await store.api(`/files?${qs}`);
    const page = (await response.json()) as Json;
    assert.equal(response.status, 200, JSON.stringify(page));
    assert.ok(page.items.length <= limit);
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}

describe('files', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore();
  });
  after(() => store.stop());

  test('create, read, patch and delete a space and a file in it', async () => {
    const response = await store.api('/files', { method: 'POST', body: space('Work', { info: { name: 'Work', description: 'd' }, extra: { a: 1 }, created: 5, owner: 'someone' }) });
    assert.equal(response.status, 201);
    const created = (await response.json()) as Json;
    assert.equal(response.headers.get('Location'), `/v1/files/${created.key}`);
    assert.equal(response.headers.get('ETag'), '"1"');
    assert.match(created.key, /^[0-9a-f-]{36}$/);
    assert.equal(created.owner, 'owner', 'server-owned fields in the body are ignored');
    assert.notEqual(created.created, 5);
    assert.deepEqual(created.parents, []);
    assert.deepEqual(created.extra, { a: 1 });

    const read = await store.api(`/files/${created.key}`);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('ETag'), '"1"');
    assert.deepEqual(await read.json(), created);

    const child = await create(store, project('API'), created.key);
    assert.deepEqual(child.parents, [created.key]);

    const patched = await store.api(`/files/${child.key}`, { method: 'PATCH', body: { app: 'test', appVersion: '1', patch: [{ op: 'replace', path: '/info/name', value: 'API 2' }] } });
    const body = (await patched.json()) as Json;
    assert.equal(patched.status, 200, JSON.stringify(body));
    assert.equal(body.info.name, 'API 2');
    assert.equal(body.version, 2);
    assert.equal(patched.headers.get('ETag'), '"2"');
    assert.deepEqual(body.revert, [{ op: 'replace', path: '/info/name', value: 'API' }]);

    assert.equal((await store.api(`/files/${child.key}`, { method: 'DELETE' })).status, 204);
    await expectProblem(await store.api(`/files/${child.key}`), 404, 'file_not_found');
  });

  test('client keys must be URL-safe and unused', async () => {
    const key = randomUUID();
    assert.equal((await create(store, { ...project('Keyed'), key })).key, key);
    await expectProblem(await store.api('/files', { method: 'POST', body: { ...project('Again'), key } }), 409, 'key_conflict');
    await expectProblem(await store.api('/files', { method: 'POST', body: { ...project('Bad'), key: 'not/url-safe' } }), 400, 'validation_failed');
  });

  test('invalid bodies and parents are refused', async () => {
    const bad = await expectProblem(await store.api('/files', { method: 'POST', body: { kind: 'Core#Space', info: {} } }), 400, 'validation_failed');
    assert.ok(bad.errors.some((e: Json) => e.path === 'json.info.name'));
    await expectProblem(await store.api('/files', { method: 'POST', body: [] }), 400, 'validation_failed');
    await expectProblem(await store.api('/files', { method: 'POST' }), 400, 'validation_failed');
    const file = await create(store, project('Not a space'));
    await expectProblem(await store.api(`/files?parent=${file.key}`, { method: 'POST', body: project('child') }), 400, 'parent_not_space');
    await expectProblem(await store.api(`/files?parent=${randomUUID()}`, { method: 'POST', body: project('child') }), 404, 'parent_not_found');
    await expectProblem(await store.api('/files/not%2Fa%2Fkey'), 400, 'validation_failed');
    await expectProblem(await store.api('/files/a+b'), 400, 'validation_failed');
  });

  test('listing filters: parent, kind, query, since', async () => {
    const root = await create(store, space('Filters'));
    const a = await create(store, project('Alpha Service', { info: { name: 'Alpha Service', description: 'payments' } }), root.key);
    const b = await create(store, space('Beta'), root.key);
    const c = await create(store, project('gamma', { info: { name: 'gamma', description: 'the ALPHA replacement' } }), root.key);
    await create(store, project('nested'), b.key);
    const keys = (items: Json[]) => items.map((item) => item.key).sort();

    assert.deepEqual(keys(await listAll(store, `parent=${root.key}`, 35)), [a.key, b.key, c.key].sort());
    assert.deepEqual(keys(await listAll(store, `parent=${root.key}&kind=Core%23HttpProject`, 35)), [a.key, c.key].sort());
    assert.deepEqual(keys(await listAll(store, `parent=${root.key}&kind=Core%23Space`, 35)), [b.key]);
    assert.deepEqual(keys(await listAll(store, `parent=${root.key}&query=alpha`, 35)), [a.key, c.key].sort());
    assert.deepEqual(keys(await listAll(store, `parent=${root.key}&query=PAYMENT`, 35)), [a.key]);
    assert.deepEqual(keys(await listAll(store, `parent=${root.key}&query=alpha&kind=Core%23Space`, 35)), []);

    const patched = (await (await store.api(`/files/${a.key}`, { method: 'PATCH', body: [{ op: 'add', path: '/info/description', value: 'x' }] })).json()) as Json;
    const since = await listAll(store, `parent=${root.key}&since=${c.updated}`, 35);
    assert.ok(since.some((item) => item.key === a.key), 'a patched file shows in since');
    assert.ok(since.every((item) => item.updated > c.updated));
    assert.deepEqual(keys(await listAll(store, `parent=${root.key}&since=${patched.updated}`, 35)), []);
    assert.deepEqual(keys(await listAll(store, `parent=${root.key}&query=payments`, 35)), [], 'the query index follows patches');

    const rootList = await listAll(store, 'kind=Core%23Space', 500);
    assert.ok(rootList.some((item) => item.key === root.key));
    assert.ok(!rootList.some((item) => item.key === b.key), 'the root listing has root files only');
    await expectProblem(await store.api(`/files?parent=${randomUUID()}`), 404, 'file_not_found');
    await expectProblem(await store.api('/files?limit=501'), 400, 'validation_failed');
    await expectProblem(await store.api('/files?since=yesterday'), 400, 'validation_failed');
  });

  test('patches rewrite only the index entries that change, and leave the indexes exactly as the final record needs them', async () => {
    const root = await create(store, space('Index Root'));
    const inner = await create(store, space('Index Inner'), root.key);
    const file = await create(store, note('Lighthouse keeper log'), inner.key);
    const patch = async (operations: Json[], query = '') => {
      const response = await store.api(`/files/${file.key}${query}`, { method: 'PATCH', body: operations });
      assert.equal(response.status, 200, JSON.stringify(await response.clone().json()));
    };
    await store.api(`/files/${file.key}?alt=media`, { method: 'PUT', body: { entries: [] } });
    await patch([{ op: 'replace', path: '/info/name', value: 'Lighthouse beacon log' }]);
    await patch([{ op: 'add', path: '/info/description', value: 'Foghorn schedule' }]);
    await patch([{ op: 'add', path: '/tags', value: ['coast'] }]);
    await patch([{ op: 'add', path: '/entries/-', value: 1 }], '?alt=media');
    await patch([{ op: 'replace', path: '/info/name', value: 'Beacon log' }, { op: 'remove', path: '/info/description' }]);
    await patch([{ op: 'replace', path: '/info/name', value: 'Beacon log' }]);

    const search = async (words: string, parent?: string) =>
      ((await (await store.api(`/files?query=${encodeURIComponent(words)}${parent ? `&parent=${parent}` : ''}`)).json()) as Json).items.map((item: Json) => item.key);
    assert.deepEqual(await search('beacon'), [file.key]);
    assert.deepEqual(await search('beacon', inner.key), [file.key]);
    assert.deepEqual(await search('lighthouse'), []);
    assert.deepEqual(await search('foghorn'), []);
    const listed = await listAll(store, `parent=${inner.key}`, 10);
    assert.deepEqual(listed.map((item) => [item.key, item.info.name, item.info.description]), [[file.key, 'Beacon log', undefined]]);
    const current = (await (await store.api(`/files/${file.key}`)).json()) as Json;
    assert.deepEqual((await listAll(store, `parent=${inner.key}&since=${current.updated - 1}`, 10)).map((item) => item.key), [file.key]);
    assert.deepEqual(await listAll(store, `parent=${inner.key}&since=${current.updated}`, 10), []);
    assert.deepEqual((await verifyStore(store.running.services.store.storage)).problems, []);
  });

  test('paging through 1,000 files gives each exactly once; a tampered cursor is a 400', async () => {
    const root = await create(store, space('Thousand'));
    const made: string[] = [];
    const workers = Array.from({ length: 16 }, async (_, w) => {
      for (let i = w; i < 1000; i += 16) made.push((await create(store, project(`file ${i}`), root.key)).key);
    });
    await Promise.all(workers);
    for (const [query, limit] of [[`parent=${root.key}`, 35], [`parent=${root.key}&since=0`, 97], [`parent=${root.key}&kind=Core%23HttpProject`, 500], [`parent=${root.key}&query=file`, 333]] as const) {
      const items = await listAll(store, query, limit);
      const keys = items.map((item) => item.key);
      assert.equal(new Set(keys).size, keys.length, `no duplicates in ${query}`);
      assert.deepEqual([...keys].sort(), [...made].sort(), `no gaps in ${query}`);
    }
    const first = (await (await store.api(`/files?parent=${root.key}&limit=10`)).json()) as Json;
    const forged = Buffer.from(first.cursor, 'base64url');
    forged[forged.length - 20] ^= 1;
    for (const bad of [forged.toString('base64url'), `${first.cursor}x`, 'garbage']) {
      await expectProblem(await store.api(`/files?cursor=${encodeURIComponent(bad)}`), 400, 'invalid_cursor');
    }
  });

  test('batch read answers null for missing and trashed keys, in order', async () => {
    const one = await create(store, project('one'));
    const two = await create(store, project('two'));
    await store.api(`/files/${two.key}`, { method: 'DELETE' });
    const missing = randomUUID();
    const response = await store.api('/files/batch', { method: 'POST', body: [one.key, missing, two.key, one.key] });
    assert.equal(response.status, 200);
    const { items } = (await response.json()) as Json;
    assert.deepEqual(items.map((item: Json | null) => item?.key ?? null), [one.key, null, null, one.key]);
    await expectProblem(await store.api('/files/batch', { method: 'POST', body: [] }), 400, 'validation_failed');
  });

  test('If-Match: a stale version is a 412 with the current one, and nothing changes', async () => {
    const file = await create(store, project('versions'));
    const patch = [{ op: 'replace', path: '/info/name', value: 'v2' }];
    assert.equal((await store.api(`/files/${file.key}`, { method: 'PATCH', body: patch, headers: { 'If-Match': '"1"' } })).status, 200);
    const stale = await store.api(`/files/${file.key}`, { method: 'PATCH', body: [{ op: 'replace', path: '/info/name', value: 'lost' }], headers: { 'If-Match': '"1"' } });
    const problem = await expectProblem(stale, 412, 'version_conflict');
    assert.equal(problem.version, 2);
    assert.equal(stale.headers.get('ETag'), '"2"');
    await expectProblem(await store.api(`/files/${file.key}`, { method: 'DELETE', headers: { 'If-Match': '"1"' } }), 412, 'version_conflict');
    assert.equal(((await (await store.api(`/files/${file.key}`)).json()) as Json).info.name, 'v2');
    assert.equal((await store.api(`/files/${file.key}`, { method: 'PATCH', body: patch, headers: { 'If-Match': '*' } })).status, 200);
    assert.equal((await store.api(`/files/${file.key}`, { method: 'DELETE', headers: { 'If-Match': 'W/"3", "4"' } })).status, 204);
  });

  test('patch: protected fields, failed test op, invalid result and revert round-trip over HTTP', async () => {
    const file = await create(store, project('patch me', { info: { name: 'patch me', description: 'd' }, config: { retries: 1, hosts: ['a'] } }));
    const url = `/files/${file.key}`;
    for (const path of ['/key', '/kind', '/owner', '/parents/0', '/created', '/updated', '/lastModified/user', '/permissions', '/deleted', '/version', '', '/']) {
      await expectProblem(await store.api(url, { method: 'PATCH', body: [{ op: 'replace', path, value: 'x' }] }), 400, 'protected_field');
    }
    await expectProblem(await store.api(url, { method: 'PATCH', body: [{ op: 'move', from: '/owner', path: '/x' }] }), 400, 'protected_field');
    await expectProblem(
      await store.api(url, { method: 'PATCH', body: [{ op: 'replace', path: '/info/name', value: 'changed' }, { op: 'test', path: '/config/retries', value: 2 }] }),
      400,
      'invalid_patch',
    );
    await expectProblem(await store.api(url, { method: 'PATCH', body: [{ op: 'remove', path: '/info/name' }] }), 400, 'invalid_patch');
    await expectProblem(await store.api(url, { method: 'PATCH', body: [{ op: 'jump', path: '/x' }] }), 400, 'validation_failed');
    assert.deepEqual(await (await store.api(url)).json(), file, 'refused patches changed nothing');

    const ops = [
      { op: 'add', path: '/config/hosts/-', value: 'b' },
      { op: 'copy', from: '/config/hosts/0', path: '/primary' },
      { op: 'move', from: '/config/retries', path: '/retries' },
      { op: 'remove', path: '/info/description' },
      { op: 'test', path: '/retries', value: 1 },
    ];
    const response = await store.api(url, { method: 'PATCH', body: { app: 't', appVersion: '1', patch: ops } });
    const patched = (await response.json()) as Json;
    assert.equal(response.status, 200, JSON.stringify(patched));
    assert.deepEqual(patched.config, { hosts: ['a', 'b'] });
    assert.equal(patched.primary, 'a');
    const reverted = (await (await store.api(url, { method: 'PATCH', body: patched.revert })).json()) as Json;
    const strip = ({ updated, lastModified, version, revert, ...rest }: Json) => rest;
    assert.deepEqual(strip(reverted), strip(file));
  });

  test('contents: create with meta, read, put, patch, revisions and their paging', async () => {
    const response = await store.api('/files?alt=media', { method: 'POST', body: { meta: note('with contents'), media: { requests: [] } } });
    assert.equal(response.status, 201);
    const file = (await response.json()) as Json;
    const url = `/files/${file.key}?alt=media`;
    const read = await store.api(url);
    assert.equal(read.headers.get('ETag'), '"1"');
    assert.deepEqual(await read.json(), { requests: [] });

    const put = (await (await store.api(url, { method: 'PUT', body: { requests: [{ url: 'http://a' }] } })).json()) as Json;
    assert.equal(put.version, 2);
    assert.deepEqual(put.revert, [{ op: 'replace', path: '', value: { requests: [] } }]);
    const patched = (await (await store.api(url, { method: 'PATCH', body: [{ op: 'add', path: '/requests/-', value: { url: 'http://b' } }] })).json()) as Json;
    assert.equal(patched.version, 3);
    assert.equal(patched.value.requests.length, 2);
    await expectProblem(await store.api(url, { method: 'PATCH', body: [{ op: 'test', path: '/requests/0/url', value: 'nope' }] }), 400, 'invalid_patch');
    await expectProblem(await store.api(url, { method: 'PUT', body: {}, headers: { 'If-Match': '"2"' } }), 412, 'version_conflict');
    const back = (await (await store.api(url, { method: 'PATCH', body: patched.revert })).json()) as Json;
    assert.deepEqual(back.value, put.value);
    await expectProblem(await store.api(`/files/${file.key}`, { method: 'PUT', body: {} }), 400, 'validation_failed');

    const meta = (await (await store.api(`/files/${file.key}`)).json()) as Json;
    assert.ok(meta.updated >= patched.version && meta.version > file.version, 'contents changes refresh the file');

    const revisions: Json[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (await store.api(`/files/${file.key}/revisions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json()) as Json;
      revisions.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    assert.deepEqual(revisions.map((r) => r.version), [4, 3, 2], 'newest first');
    assert.equal(revisions[0].user, 'owner');

    const bare = await create(store, note('no contents'));
    await expectProblem(await store.api(`/files/${bare.key}?alt=media`), 404, 'media_not_found');
    await expectProblem(await store.api(`/files/${bare.key}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/a', value: 1 }] }), 404, 'media_not_found');
    await expectProblem(await store.api(`/files/${bare.key}?alt=media`, { method: 'PUT', body: 'text' }), 400, 'malformed_json');
    await expectProblem(await store.api(`/files/${bare.key}`, { method: 'PUT', body: 'text', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
    assert.equal((await store.api(`/files/${bare.key}?alt=media`, { method: 'PUT', body: '"text"' })).status, 200);
    assert.equal(await (await store.api(`/files/${bare.key}?alt=media`)).json(), 'text');
  });

  test('breadcrumbs list the ancestors root-most first, then the file', async () => {
    const top = await create(store, space('top'));
    const middle = await create(store, space('middle'), top.key);
    const leaf = await create(store, project('leaf'), middle.key);
    const { items } = (await (await store.api(`/files/${leaf.key}/breadcrumbs`)).json()) as Json;
    assert.deepEqual(items, [
      { key: top.key, kind: 'Core#Space', name: 'top' },
      { key: middle.key, kind: 'Core#Space', name: 'middle' },
      { key: leaf.key, kind: 'Core#HttpProject', name: 'leaf' },
    ]);
  });

  test('the OpenAPI document describes the files, trash and sharing routes', async () => {
    const response = await store.api('/openapi.json');
    assert.equal(response.status, 200);
    const { paths } = (await response.json()) as Json;
    for (const path of ['/files', '/files/batch', '/files/{key}', '/files/{key}/revisions', '/files/{key}/breadcrumbs', '/files/{key}/users', '/shared', '/trash', '/trash/{key}', '/trash/{key}/restore']) {
      assert.ok(paths[path], path);
    }
    assert.deepEqual(Object.keys(paths['/files/{key}']).sort(), ['delete', 'get', 'patch', 'put']);
  });

  test('shared is an empty list for the local owner', async () => {
    const response = await store.api('/shared');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { items: [] });
  });
});

test('a restarted store on the same data dir reads everything back', async () => {
  const first = await startTestStore();
  const root = await create(first, space('persisted'));
  const child = await create(first, { meta: note('child'), media: { v: 1 } }, root.key, 'alt=media');
  await first.api(`/files/${child.key}?alt=media`, { method: 'PUT', body: { v: 2 } });
  const trashed = await create(first, project('trashed'), root.key);
  await first.api(`/files/${trashed.key}`, { method: 'DELETE' });
  const before = await Promise.all([`/files/${root.key}`, `/files/${child.key}`, `/files?parent=${root.key}`, `/files/${child.key}/revisions`, '/trash'].map(async (path) => (await first.api(path)).json()));
  await first.stop({ keepData: true });

  const second = await startTestStore({ dataDir: first.dataDir, token: first.token });
  try {
    const after = await Promise.all([`/files/${root.key}`, `/files/${child.key}`, `/files?parent=${root.key}`, `/files/${child.key}/revisions`, '/trash'].map(async (path) => (await second.api(path)).json()));
    assert.deepEqual(after, before);
    assert.deepEqual(await (await second.api(`/files/${child.key}?alt=media`)).json(), { v: 2 });
  } finally {
    await second.stop();
  }
});
