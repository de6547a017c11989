import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam, type Team } from '../helpers/team.js';

/**
 * What @api-client/core sends, built from its documented models (`IHttpHistory`, `IRequestLog`,
 * `ISentRequest`, `IArcResponse`, `IErrorResponse`, `IRequestTime`, `ISerializedError`): its
 * `toJSON()` output, as a core client posts it.
 */
const core = {
  sentRequest: (url: string, method = 'GET') => ({
    kind: 'ARC#HttpRequest',
    url,
    method,
    headers: 'accept: application/json',
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_000_120,
  }),
  /** `ArcResponse.toJSON()` of a client that gives no timings: `timings` is left out. */
  responseWithoutTimings: () => ({ kind: 'ARC#HttpResponse', status: 200, statusText: 'OK', headers: 'content-type: text/plain', payload: 'hello', loadingTime: 120 }),
  responseWithTimings: () => ({
    kind: 'ARC#HttpResponse',
    status: 201,
    loadingTime: 80,
    timings: { kind: 'ARC#RequestTime', connect: 1, receive: 2, send: 3, wait: 70, blocked: -1, dns: 4, ssl: -1 },
  }),
  /** `ErrorResponse.fromError(new SerializableError('…', 'ECONNREFUSED')).toJSON()`: status 0, no text, no headers. */
  errorResponse: () => ({ kind: 'ARC#HttpResponse', status: 0, error: { message: 'connect ECONNREFUSED 127.0.0.1:9', code: 'ECONNREFUSED' } }),
  /** `HttpHistory.toJSON()`: `user` is empty until the store sets it; ids it has not are left empty by some callers. */
  history: (log: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    kind: 'Core#HttpHistory',
    created: 1_700_000_000_000,
    midnight: 1_699_920_000_000,
    user: '',
    app: 'api-client',
    log: { kind: 'ARC#ResponseLog', ...log },
    ...extra,
  }),
};

async function json<T = any>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

describe('what core produces is stored', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore({ limits: { metadataBytes: 64 * 1024, mediaBytes: 32 * 1024 } });
  });
  after(() => store.stop());

  test('history: a response without timings, a failed request (string or serialized error) and empty ids are stored', async () => {
    const inputs = [
      core.history({ request: core.sentRequest('https://api.example.test/plain'), response: core.responseWithoutTimings() }, { project: '', space: '', request: '' }),
      core.history({ request: core.sentRequest('https://down.example.test/', 'POST'), response: core.errorResponse() }),
      core.history({ request: core.sentRequest('https://down.example.test/string'), response: { status: 0, error: 'socket hang up' } }),
      core.history({ request: core.sentRequest('https://api.example.test/timed'), response: core.responseWithTimings(), redirects: [], size: { request: 10, response: 20 } }),
      core.history({ request: { kind: 'ARC#HttpRequest', url: 'https://api.example.test/no-response', startTime: 1 } }),
    ];
    const keys = (await json<{ items: string[] }>(await store.api('/history/batch/create', { method: 'POST', body: inputs }), 200)).items;
    assert.equal(keys.length, inputs.length);
    const stored = await Promise.all(keys.map(async (key) => json(await store.api(`/history/${key}`), 200)));

    assert.equal(stored[0].log.response.timings, undefined);
    assert.equal(stored[0].log.response.loadingTime, 120);
    for (const field of ['project', 'space', 'request']) assert.ok(!(field in stored[0]), `an empty ${field} is stored as absent`);
    assert.equal(stored[0].user, 'owner', 'the store sets the user');
    assert.equal(stored[0].midnight, 1_699_920_000_000, 'core’s own fields are kept');
    assert.deepEqual(stored[1].log.response, core.errorResponse(), 'a failed request is kept as sent');
    assert.equal(stored[2].log.response.error, 'socket hang up');
    assert.deepEqual(stored[3].log.response.timings, core.responseWithTimings().timings);
    assert.deepEqual(stored[3].log.size, { request: 10, response: 20 });
    assert.equal(stored[4].log.response, undefined);

    const failed = await json<{ items: { key: string }[] }>(await store.api('/history?query=down.example'), 200);
    assert.deepEqual(failed.items.map((item) => item.key).sort(), [keys[1], keys[2]].sort(), 'failed requests are listed and searched like the others');

    const single = await store.api('/history', { method: 'POST', body: core.history({ request: core.sentRequest('https://x.test'), response: core.errorResponse() }, { app: '', space: '' }) });
    const entry = await json(single, 201);
    assert.ok(!('app' in entry) && !('space' in entry), 'an entry may name no app (core leaves it out for requests of a space)');
    assert.equal((await json(await store.api('/history', { method: 'POST', body: core.history({ request: { url: '' , startTime: 1 } }) }), 400)).code, 'validation_failed');
  });

  test('keys: files and app records keep any URL-safe client key, and answer 409 key_conflict when it is taken', async () => {
    const keys = ['V1StGXR8_Z5jdHi6B-myT', 'a1b2c3d4-0000-4000-8000-000000000000', 'x', 'p'.repeat(128)];
    for (const key of keys) {
      const file = await json(await store.api('/files', { method: 'POST', body: { key, kind: 'Core#HttpProject', info: { name: key } } }), 201);
      assert.equal(file.key, key);
      assert.equal((await json(await store.api(`/files/${key}`), 200)).key, key);
      const again = await json(await store.api('/files', { method: 'POST', body: { key, kind: 'Core#HttpProject', info: { name: 'again' } } }), 409);
      assert.equal(again.code, 'key_conflict');
    }
    for (const bad of ['has space', 'p'.repeat(129), 'dot.ted', '']) {
      assert.equal((await json(await store.api('/files', { method: 'POST', body: { key: bad, kind: 'Core#HttpProject', info: { name: 'bad' } } }), 400)).code, 'validation_failed', bad);
    }
    // A key deleted for good is retired: still a conflict.
    await json(await store.api('/files', { method: 'POST', body: { key: 'retired-key', kind: 'Core#HttpProject', info: { name: 'r' } } }), 201);
    assert.equal((await store.api('/files/retired-key', { method: 'DELETE' })).status, 204);
    assert.equal((await store.api('/trash/retired-key', { method: 'DELETE' })).status, 204);
    assert.equal((await json(await store.api('/files', { method: 'POST', body: { key: 'retired-key', kind: 'Core#HttpProject', info: { name: 'r' } } }), 409)).code, 'key_conflict');

    const records = '/app/api-client/projects';
    const record = await json(await store.api(records, { method: 'POST', body: { key: 'V1StGXR8_Z5jdHi6B-myT', info: { name: 'p' } } }), 201);
    assert.equal(record.key, 'V1StGXR8_Z5jdHi6B-myT', 'the client’s key is kept, not replaced');
    assert.equal((await json(await store.api(`${records}/V1StGXR8_Z5jdHi6B-myT`), 200)).info.name, 'p');
    const request = await json(await store.api('/app/api-client/requests', { method: 'POST', body: { key: 'req-1', info: { name: 'r' }, project: record.key } }), 201);
    assert.equal(request.project, record.key, 'references between records hold');
    assert.equal((await json(await store.api(records, { method: 'POST', body: { key: record.key, info: { name: 'again' } } }), 409)).code, 'key_conflict');
    assert.equal((await store.api(`${records}/${record.key}`, { method: 'DELETE' })).status, 204);
    assert.equal((await json(await store.api(records, { method: 'POST', body: { key: record.key, info: { name: 'again' } } }), 409)).code, 'key_conflict', 'a deleted record keeps its key');
    const batch = await json(await store.api(`${records}/batch/create`, { method: 'POST', body: [{ key: 'same', info: { name: '1' } }, { key: 'same', info: { name: '2' } }] }), 409);
    assert.equal(batch.code, 'key_conflict');
    assert.equal((await store.api(`${records}/same`)).status, 404, 'all or none');
    assert.equal((await json(await store.api(records, { method: 'POST', body: { key: 'query', info: { name: 'q' } } }), 400)).code, 'validation_failed');
    const made = await json(await store.api(records, { method: 'POST', body: { info: { name: 'server key' } } }), 201);
    assert.match(made.key, /^[0-9a-z]+$/);
  });

  test('contents of any type: stored with their type and given back with the same Content-Type; PATCH only on JSON', async () => {
    const file = await json(await store.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name: 'api.yaml' } } }), 201);
    const url = `${store.baseUrl}/files/${file.key}?alt=media`;
    const auth = { Authorization: `Bearer ${store.token}` };
    const yaml = 'openapi: 3.0.0\ninfo:\n  title: ü\n';
    const put = await json(await fetch(url, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/yaml; charset=utf-8' }, body: yaml }), 200);
    assert.equal(put.version, 1);
    assert.equal(put.type, 'application/yaml; charset=utf-8');
    const read = await fetch(url, { headers: auth });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('Content-Type'), 'application/yaml; charset=utf-8');
    assert.equal(read.headers.get('ETag'), '"1"');
    assert.equal(read.headers.get('Content-Disposition'), 'attachment');
    assert.equal(read.headers.get('X-Content-Type-Options'), 'nosniff');
    assert.equal(await read.text(), yaml);

    const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) % 256);
    await json(await fetch(url, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/octet-stream' }, body: bytes }), 200);
    const binary = await fetch(url, { headers: auth });
    assert.equal(binary.headers.get('Content-Type'), 'application/octet-stream');
    assert.deepEqual(new Uint8Array(await binary.arrayBuffer()), bytes);

    const patch = await json(await store.api(`/files/${file.key}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/x', value: 1 }] }), 409);
    assert.equal(patch.code, 'contents_not_json');
    assert.equal(patch.type, 'application/octet-stream');

    const tooLarge = await json(await fetch(url, { method: 'PUT', headers: { ...auth, 'Content-Type': 'image/png' }, body: new Uint8Array(32 * 1024 + 1) }), 413);
    assert.equal(tooLarge.code, 'payload_too_large');
    assert.match(tooLarge.detail, /32768 bytes/);
    assert.equal(tooLarge.limit, 32768);
    // Exactly the cap fits, though its base64 is larger.
    await json(await fetch(url, { method: 'PUT', headers: { ...auth, 'Content-Type': 'image/png' }, body: new Uint8Array(32 * 1024) }), 200);

    await json(await store.api(`/files/${file.key}?alt=media`, { method: 'PUT', body: { back: 'to json' } }), 200);
    const back = await fetch(url, { headers: auth });
    assert.match(back.headers.get('Content-Type') ?? '', /^application\/json/);
    assert.deepEqual(await back.json(), { back: 'to json' });
    assert.equal((await json(await store.api(`/files/${file.key}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/x', value: 1 }] }), 200)).value.x, 1);

    const revisions = await json(await store.api(`/files/${file.key}/revisions`), 200);
    assert.deepEqual(revisions.items.map((revision: { type?: string; previousType?: string }) => [revision.type, revision.previousType]), [
      [undefined, undefined],
      [undefined, 'image/png'],
      ['image/png', 'application/octet-stream'],
      ['application/octet-stream', 'application/yaml; charset=utf-8'],
      ['application/yaml; charset=utf-8', undefined],
    ]);

    // Metadata stays JSON only, and so does creating with contents.
    assert.equal((await json(await fetch(`${store.baseUrl}/files`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/yaml' }, body: 'a: 1' }), 415)).code, 'unsupported_media_type');
    assert.equal((await json(await fetch(`${store.baseUrl}/files?alt=media`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/yaml' }, body: 'a: 1' }), 415)).code, 'unsupported_media_type');
    assert.equal((await json(await fetch(`${store.baseUrl}/files/${file.key}`, { method: 'PUT', headers: { ...auth, 'Content-Type': 'text/plain' }, body: 'no alt' }), 415)).code, 'unsupported_media_type');
    assert.equal((await json(await fetch(url, { method: 'PUT', headers: { ...auth, 'Content-Type': 'not a type' }, body: 'x' }), 415)).code, 'unsupported_media_type');
  });

  test('large documents: Prefer: return=minimal answers the version and the revert only; 413 states the limit', async () => {
    const created = await json(await store.api('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#Note', info: { name: 'big' } }, media: { items: Array.from({ length: 500 }, (_, i) => `item ${i}`) } } }), 201);
    const minimal = await store.api(`/files/${created.key}?alt=media`, { method: 'PATCH', headers: { Prefer: 'return=minimal' }, body: [{ op: 'replace', path: '/items/0', value: 'first' }] });
    assert.equal(minimal.headers.get('Preference-Applied'), 'return=minimal');
    assert.equal(minimal.headers.get('ETag'), '"2"');
    assert.deepEqual(await json(minimal, 200), { version: 2, revert: [{ op: 'replace', path: '/items/0', value: 'item 0' }] });

    const put = await store.api(`/files/${created.key}?alt=media`, { method: 'PUT', headers: { Prefer: 'respond-async, return=minimal' }, body: { items: [] } });
    assert.equal(put.headers.get('Preference-Applied'), 'return=minimal');
    const putBody = await json(put, 200);
    assert.deepEqual(Object.keys(putBody).sort(), ['revert', 'version']);
    assert.equal(putBody.version, 3);

    const meta = await store.api(`/files/${created.key}`, { method: 'PATCH', headers: { Prefer: 'return=minimal' }, body: [{ op: 'add', path: '/info/description', value: 'd' }] });
    assert.deepEqual(await json(meta, 200), { version: 4, revert: [{ op: 'remove', path: '/info/description' }] }, 'contents changes count in the metadata version too');

    const record = await json(await store.api('/app/api-client/requests', { method: 'POST', body: { info: { name: 'r' } } }), 201);
    const appPatch = await store.api(`/app/api-client/requests/${record.key}`, { method: 'PATCH', headers: { Prefer: 'return=minimal' }, body: [{ op: 'replace', path: '/info/name', value: 's' }] });
    assert.equal(appPatch.headers.get('Preference-Applied'), 'return=minimal');
    assert.deepEqual(Object.keys(await json(appPatch, 200)).sort(), ['revert', 'updated']);

    const full = await store.api(`/files/${created.key}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/items/-', value: 'x' }] });
    assert.equal(full.headers.get('Preference-Applied'), null);
    assert.deepEqual((await json(full, 200)).value, { items: ['x'] });

    const tooLarge = await json(await store.api('/history', { method: 'POST', body: core.history({ request: { ...core.sentRequest('https://x.test'), payload: 'x'.repeat(64 * 1024) } }) }), 413);
    assert.match(tooLarge.detail, /65536 bytes \(0\.06 MB\)/);
  });
});

describe('trash and sharing', () => {
  let team: Team;
  before(async () => {
    team = await startTeam();
  });
  after(() => team.stop());

  const createFile = async (user: Team['alice'], name: string, kind = 'Core#Space', parent?: string) => {
    const { status, body } = await team.call(user, `/files${parent ? `?parent=${parent}` : ''}`, { method: 'POST', body: { kind, info: { name } } });
    assert.equal(status, 201, JSON.stringify(body));
    return body as { key: string };
  };

  test('trash entries carry the time and user of the deletion', async () => {
    const file = await createFile(team.alice, 'dated');
    const before = Date.now();
    assert.equal((await team.call(team.alice, `/files/${file.key}`, { method: 'DELETE' })).status, 204);
    const { body } = await team.call(team.alice, '/trash');
    const entry = body.items.find((item: { key: string }) => item.key === file.key);
    assert.equal(entry.trashed.user, team.alice.key);
    assert.ok(entry.trashed.time >= before - 1000 && entry.trashed.time <= Date.now() + 1000, String(entry.trashed.time));
  });

  test('batch restore and batch delete: all or none, only entries the caller owns', async () => {
    const space = await createFile(team.alice, 'parent');
    const child = await createFile(team.alice, 'child', 'Core#HttpProject', space.key);
    const other = await createFile(team.alice, 'other');
    const bobs = await createFile(team.bob, 'bob’s');
    for (const key of [child.key, space.key, other.key]) assert.equal((await team.call(team.alice, `/files/${key}`, { method: 'DELETE' })).status, 204);
    assert.equal((await team.call(team.bob, `/files/${bobs.key}`, { method: 'DELETE' })).status, 204);

    const foreign = await team.call(team.alice, '/trash/batch/restore', { method: 'POST', body: [other.key, bobs.key] });
    assert.equal(foreign.status, 404, 'bob’s entry is not alice’s to restore');
    assert.equal((await team.call(team.alice, `/files/${other.key}`)).status, 404, 'nothing was restored');
    const wrongOrder = await team.call(team.alice, '/trash/batch/restore', { method: 'POST', body: [child.key, space.key] });
    assert.equal(wrongOrder.body.code, 'parent_gone');
    assert.equal((await team.call(team.alice, `/files/${space.key}`)).status, 404, 'nothing was restored');

    const restored = await team.call(team.alice, '/trash/batch/restore', { method: 'POST', body: [space.key, child.key] });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.deepEqual(restored.body.items.map((item: { key: string }) => item.key), [space.key, child.key]);
    assert.equal((await team.call(team.alice, `/files/${child.key}`)).status, 200);

    assert.equal((await team.call(team.alice, '/trash/batch/delete', { method: 'POST', body: [other.key, bobs.key] })).status, 404);
    assert.equal((await team.call(team.bob, '/trash')).body.items.length, 1, 'bob’s entry is untouched');
    assert.equal((await team.call(team.alice, '/trash/batch/delete', { method: 'POST', body: [other.key] })).status, 204);
    assert.equal((await team.call(team.alice, '/trash')).body.items.some((item: { key: string }) => item.key === other.key), false);
    assert.equal((await team.call(team.alice, '/files', { method: 'POST', body: { key: other.key, kind: 'Core#Space', info: { name: 'reuse' } } })).body.code, 'key_conflict');
  });

  test('granting a role to a user who does not exist is refused with 404 user_not_found; nothing is granted', async () => {
    const file = await createFile(team.alice, 'shared');
    const refused = await team.call(team.alice, `/files/${file.key}/users`, {
      method: 'PATCH',
      body: [{ op: 'add', type: 'user', id: team.bob.key, value: 'reader' }, { op: 'add', type: 'user', id: 'no-such-user', value: 'reader' }],
    });
    assert.equal(refused.status, 404);
    assert.equal(refused.body.code, 'user_not_found');
    assert.equal((await team.call(team.bob, `/files/${file.key}`)).status, 404, 'all or none');
    const removed = await team.call(team.alice, `/files/${file.key}/users`, { method: 'PATCH', body: [{ op: 'remove', type: 'user', id: 'no-such-user' }] });
    assert.equal(removed.status, 200, 'removing names any user');
  });
});
