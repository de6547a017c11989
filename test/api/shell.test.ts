import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestStore, type TestStore } from '../helpers/store.js';

/** The headers DESIGN.md requires on every response, errors included. */
function assertShellHeaders(res: Response) {
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin');
  assert.match(res.headers.get('x-request-id') ?? '', /^[\w-]+$/);
  assert.match(res.headers.get('x-response-time') ?? '', /^\d+(\.\d+)?ms$/);
  assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS on plain HTTP');
}

async function assertProblem(res: Response, status: number, code: string) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assertShellHeaders(res);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(body.error, true);
  assert.equal(typeof body.title, 'string');
  assert.equal(body.message, body.detail);
  assert.equal(typeof body.instance, 'string');
  assert.ok(!JSON.stringify(body).includes('    at '), 'no stack trace');
  return body;
}

describe('the hard shell', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore({ limits: { metadataBytes: 1024, mediaBytes: 4096 }, allowedOrigins: ['app://renderer'] });
  });
  after(() => store.stop());

  test('GET /v1/store is open and describes the store', async () => {
    const res = await store.api('/store', { token: null });
    assert.equal(res.status, 200);
    assertShellHeaders(res);
    const info = (await res.json()) as Record<string, any>;
    assert.equal(info.mode, 'single-user');
    assert.deepEqual(info.hosting, { host: '127.0.0.1', port: store.running.port, prefix: '/v1' });
    for (const capability of ['files', 'events', 'changes', 'history', 'app-data', 'proxy']) assert.ok(info.capabilities.includes(capability), capability);
    assert.equal(typeof info.version, 'string');
  });

  test('an unknown route is a 404 problem', async () => {
    await assertProblem(await store.api('/no-such-thing'), 404, 'not_found');
    await assertProblem(await fetch(`http://127.0.0.1:${store.running.port}/elsewhere`, { headers: { Authorization: `Bearer ${store.token}` } }), 404, 'not_found');
  });

  test('a wrong method is a 405 with Allow', async () => {
    const res = await store.api('/store', { method: 'DELETE' });
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    await assertProblem(res, 405, 'method_not_allowed');
  });

  test('a body that is not JSON is a 415', async () => {
    await assertProblem(await store.api('/store', { method: 'POST', body: 'name=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    await assertProblem(await store.api('/store', { method: 'POST', body: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  });

  test('malformed JSON is a 400 on every route that takes a body', async () => {
    await assertProblem(await store.api('/files', { method: 'POST', body: '{"a":' }), 400, 'malformed_json');
    await assertProblem(await store.api('/history/batch/create', { method: 'POST', body: '[{' }), 400, 'malformed_json');
    await assertProblem(await store.api('/history/batch/create', { method: 'POST', body: '', headers: { 'Content-Type': 'application/json' } }), 400, 'malformed_json');
  });

  test('a body over the metadata cap is a 413: only the media routes with ?alt=media take up to the media cap', async () => {
    const big = JSON.stringify({ data: 'x'.repeat(2000) });
    await assertProblem(await store.api('/store', { method: 'POST', body: big }), 413, 'payload_too_large');
    // The query string alone does not raise the cap: the route decides.
    await assertProblem(await store.api('/store?alt=media', { method: 'POST', body: big }), 413, 'payload_too_large');
    await assertProblem(await store.api('/history?alt=media', { method: 'POST', body: big }), 413, 'payload_too_large');
    const created = await store.api('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#Note', info: { name: 'p' } }, media: { data: 'x'.repeat(2000) } } });
    assert.equal(created.status, 201);
    const { key } = (await created.json()) as { key: string };
    await assertProblem(await store.api(`/files/${key}`, { method: 'PATCH', body: [{ op: 'add', path: '/data', value: 'x'.repeat(2000) }] }), 413, 'payload_too_large');
    assert.equal((await store.api(`/files/${key}?alt=media`, { method: 'PUT', body: big })).status, 200);
    assert.equal((await store.api(`/files/${key}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/more', value: 'y'.repeat(1500) }] })).status, 200);
    await assertProblem(await store.api(`/files/${key}?alt=media`, { method: 'PUT', body: JSON.stringify({ data: 'x'.repeat(5000) }) }), 413, 'payload_too_large');
  });

  test('a body streamed without Content-Length is capped too', async () => {
    const chunks = [JSON.stringify({ data: 'x'.repeat(600) }), JSON.stringify({ data: 'y'.repeat(600) })];
    const body = new ReadableStream({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });
    const res = await fetch(`${store.baseUrl}/store`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { Authorization: `Bearer ${store.token}`, 'Content-Type': 'application/json' },
    } as RequestInit);
    await assertProblem(res, 413, 'payload_too_large');
  });

  test('a valid X-Request-ID is echoed, an invalid one replaced', async () => {
    const echoed = await store.api('/store', { headers: { 'X-Request-ID': 'trace-123_abc' } });
    assert.equal(echoed.headers.get('x-request-id'), 'trace-123_abc');
    const replaced = await store.api('/store', { headers: { 'X-Request-ID': 'bad id\twith spaces' } });
    assert.notEqual(replaced.headers.get('x-request-id'), 'bad id\twith spaces');
    assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('a file read, written straight on Node’s response, carries the shell’s headers, its ETag and JSON; HEAD too', async () => {
    const created = await store.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name: 'read me' } } });
    const { key } = (await created.json()) as { key: string };
    const read = await store.api(`/files/${key}`, { headers: { 'X-Request-ID': 'read-1' } });
    assert.equal(read.status, 200);
    assertShellHeaders(read);
    assert.equal(read.headers.get('x-request-id'), 'read-1');
    assert.equal(read.headers.get('etag'), '"1"');
    assert.equal(read.headers.get('content-type'), 'application/json');
    const text = await read.text();
    assert.equal(read.headers.get('content-length'), String(Buffer.byteLength(text)));
    assert.equal((JSON.parse(text) as { info: { name: string } }).info.name, 'read me');
    const head = await store.api(`/files/${key}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assertShellHeaders(head);
    assert.equal(head.headers.get('etag'), '"1"');
    assert.equal(await head.text(), '');
    await assertProblem(await store.api('/files/no-such-file'), 404, 'file_not_found');
    const badKey = await assertProblem(await store.api('/files/bad%20key'), 400, 'validation_failed');
    assert.deepEqual((badKey.errors as { path: string }[]).map((error) => error.path), ['param.key']);
    const badQuery = await assertProblem(await store.api(`/files/${key}?alt=other`), 400, 'validation_failed');
    assert.deepEqual((badQuery.errors as { path: string }[]).map((error) => error.path), ['query.alt']);
    const badLimit = await assertProblem(await store.api('/files?limit=0'), 400, 'validation_failed');
    assert.deepEqual((badLimit.errors as { path: string }[]).map((error) => error.path), ['query.limit']);
  });

  test('a file read again after each change answers the stored record as it is then: new text, ETag, then 404 in trash', async () => {
    const created = await store.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name: 'first' } } });
    const { key } = (await created.json()) as { key: string };
    for (let i = 0; i < 3; i++) assert.equal(((await (await store.api(`/files/${key}`)).json()) as { info: { name: string } }).info.name, 'first');
    const patched = await store.api(`/files/${key}`, { method: 'PATCH', body: [{ op: 'replace', path: '/info/name', value: 'second' }] });
    const { revert: _revert, ...record } = (await patched.json()) as Record<string, unknown>;
    const read = await store.api(`/files/${key}`);
    assert.equal(read.headers.get('etag'), '"2"');
    assert.equal(await read.text(), JSON.stringify(record), 'the stored record, byte for byte as the write answered it');
    assert.equal((await store.api(`/files/${key}`, { method: 'DELETE' })).status, 204);
    await assertProblem(await store.api(`/files/${key}`), 404, 'file_not_found');
  });

  test('the OpenAPI document is generated from the routes', async () => {
    const res = await store.api('/openapi.json');
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.0.0');
    assert.ok(doc.paths['/store']);
  });
});

describe('local authentication and request origin', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore({ allowedOrigins: ['app://renderer'] });
  });
  after(() => store.stop());

  const refused: [string, (token: string) => Record<string, string>][] = [
    ['a missing token', () => ({})],
    ['a wrong token', () => ({ Authorization: 'Bearer ' + 'A'.repeat(43) })],
    ['the token in the wrong scheme', (token) => ({ Authorization: `Token ${token}` })],
    ['the token without a scheme', (token) => ({ Authorization: token })],
    ['Basic credentials', () => ({ Authorization: 'Basic ' + Buffer.from('x:y').toString('base64') })],
  ];
  for (const [name, headers] of refused) {
    test(`${name} is refused with 401`, async () => {
      const res = await store.api('/openapi.json', { token: null, headers: headers(store.token) });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      await assertProblem(res, 401, 'unauthorized');
    });
  }

  test('the token in the query string is refused outside the events socket', async () => {
    await assertProblem(await store.api(`/openapi.json?token=${store.token}`, { token: null }), 401, 'unauthorized');
  });

  test('the right token is accepted', async () => {
    assert.equal((await store.api('/openapi.json')).status, 200);
  });

  test('a Host that is not a loopback name is refused (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: store.running.port, path: '/v1/store', headers: { Host: 'attacker.example:80' } },
        (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 403);
    assert.equal(JSON.parse(res.body).code, 'forbidden_host');
  });

  test('localhost and [::1]-style Host names pass', async () => {
    const res = await fetch(`http://localhost:${store.running.port}/v1/store`);
    assert.equal(res.status, 200);
  });

  test('a disallowed Origin is refused and gets no CORS headers', async () => {
    const res = await store.api('/store', { headers: { Origin: 'https://evil.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    await assertProblem(res, 403, 'forbidden_origin');
    const preflight = await fetch(`${store.baseUrl}/files`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  });

  test('an allowed Origin gets CORS headers, preflight included', async () => {
    const res = await store.api('/openapi.json', { headers: { Origin: 'app://renderer' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'app://renderer');
    const preflight = await fetch(`${store.baseUrl}/files`, {
      method: 'OPTIONS',
      headers: { Origin: 'app://renderer', 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'app://renderer');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /PATCH/);
  });

  test('an allowed Origin gets CORS headers on a file created, read, and on a refused request', async () => {
    const created = await store.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name: 'seen from a browser' } }, headers: { Origin: 'app://renderer' } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('access-control-allow-origin'), 'app://renderer');
    assert.equal(created.headers.get('etag'), '"1"');
    assertShellHeaders(created);
    const { key } = (await created.json()) as { key: string };
    assert.equal(created.headers.get('location'), `/v1/files/${key}`);
    const read = await store.api(`/files/${key}`, { headers: { Origin: 'app://renderer' } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), 'app://renderer');
    assert.equal(read.headers.get('vary'), 'Origin');
    assert.equal(read.headers.get('etag'), '"1"');
    assertShellHeaders(read);
    const refused = await store.api(`/files/${key}`, { token: null, headers: { Origin: 'app://renderer' } });
    assert.equal(refused.headers.get('access-control-allow-origin'), 'app://renderer');
    assert.equal(refused.headers.get('vary'), 'Origin');
    await assertProblem(refused, 401, 'unauthorized');
  });
});
