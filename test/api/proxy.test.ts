import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestStore, type TestStore } from '../helpers/store.js';

describe('POST /v1/proxy', () => {
  let store: TestStore;
  let target: Server;
  let port: number;
  before(async () => {
    store = await startTestStore();
    target = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url} ${req.headers['x-app'] ?? ''}`));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    port = (target.address() as AddressInfo).port;
  });
  after(async () => {
    await store.stop();
    await new Promise<void>((resolve) => target.close(() => resolve()));
  });

  test('the local owner can call a loopback service', async () => {
    const res = await store.api('/proxy', { method: 'POST', body: { url: `http://127.0.0.1:${port}/ping?x=1`, method: 'put', headers: { 'x-app': 'client' } } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: number; body: string; timings: { total: number } };
    assert.equal(body.status, 200);
    assert.equal(body.body, 'PUT /ping?x=1 client');
    assert.equal(typeof body.timings.total, 'number');
  });

  test('invalid requests are 400 validation_failed', async () => {
    for (const bad of [{ url: 'file:///etc/passwd' }, { url: 'not a url' }, { url: `http://127.0.0.1:${port}/`, headers: { 'bad header': 'x' } }, { url: `http://127.0.0.1:${port}/`, headers: { ok: 'a\r\nb' } }]) {
      const res = await store.api('/proxy', { method: 'POST', body: bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(((await res.json()) as { code: string }).code, 'validation_failed');
    }
  });
});
