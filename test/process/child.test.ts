import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { exitOf, forkBackend, nextMessage } from '../helpers/backend-process.js';
import { makeTempDir } from '../helpers/store.js';

/** A backend child started on a temp data dir, killed and cleaned up after the test. */
async function startBackend(t: TestContext, dataDir?: string) {
  if (!dataDir) {
    const created = (dataDir = await makeTempDir());
    t.after(() => rm(created, { recursive: true, force: true }));
  }
  const token = createLaunchToken();
  const child = forkBackend();
  t.after(() => child.kill('SIGKILL'));
  child.send({ type: 'start', config: { dataDir, token, logLevel: 'silent' } });
  const { port } = await nextMessage(child, 'ready');
  return { child, token, port, dataDir };
}

test('start → ready → request → shutdown → stopped, exit 0; the token is not on the command line', async (t) => {
  const { child, token, port } = await startBackend(t);
  assert.ok(port > 0);

  const cmdline = await readFile(`/proc/${child.pid}/cmdline`, 'utf8');
  assert.ok(!cmdline.includes(token), 'token not in argv');
  const environ = await readFile(`/proc/${child.pid}/environ`, 'utf8');
  assert.ok(!environ.includes(token), 'token not in the environment');

  const res = await fetch(`http://127.0.0.1:${port}/v1/openapi.json`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);

  child.send({ type: 'shutdown' });
  await nextMessage(child, 'stopped');
  assert.deepEqual(await exitOf(child), { code: 0, signal: null });
});

test('an invalid config is a fatal message and a non-zero exit', async (t) => {
  const child = forkBackend();
  t.after(() => child.kill('SIGKILL'));
  child.send({ type: 'start', config: { dataDir: '', token: 'short', port: 99999 } });
  const fatal = await nextMessage(child, 'fatal');
  assert.match(fatal.message, /dataDir/);
  assert.match(fatal.message, /token/);
  assert.match(fatal.message, /port/);
  assert.equal((await exitOf(child)).code, 1);
});

test('SIGTERM mid-request: the in-flight request completes, then the backend stops', async (t) => {
  const { child, token, port } = await startBackend(t);

  // `Expect: 100-continue` makes the server say when it has the request: from then on it is in flight.
  const body = JSON.stringify({ half: 'one', other: 'two' });
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/store',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Expect: '100-continue' },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  await new Promise<void>((resolve) => req.once('continue', resolve));
  req.write(body.slice(0, 10));

  const stopped = nextMessage(child, 'stopped');
  child.kill('SIGTERM');
  req.end(body.slice(10));

  const res = await response;
  assert.equal(res.status, 405, 'the route answered the whole request');
  assert.equal(JSON.parse(res.body).code, 'method_not_allowed');
  await stopped;
  assert.deepEqual(await exitOf(child), { code: 0, signal: null });
});

test('the backend stops by itself when its parent goes away', async (t) => {
  const { child } = await startBackend(t);
  child.disconnect();
  assert.deepEqual(await exitOf(child), { code: 0, signal: null });
});

test('an acknowledged write survives kill -9 of the backend', async (t) => {
  const first = await startBackend(t);
  const call = (backend: { port: number; token: string }, path: string, method = 'GET', body?: unknown) =>
    fetch(`http://127.0.0.1:${backend.port}/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${backend.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const created = await call(first, '/files', 'POST', { kind: 'Core#Space', info: { name: 'before' } });
  assert.equal(created.status, 201);
  const { key } = (await created.json()) as { key: string };
  const patched = await call(first, `/files/${key}`, 'PATCH', [{ op: 'replace', path: '/info/name', value: 'acknowledged' }]);
  assert.equal(patched.status, 200);

  first.child.kill('SIGKILL');
  assert.equal((await exitOf(first.child)).signal, 'SIGKILL');
  const second = await startBackend(t, first.dataDir);
  const read = await call(second, `/files/${key}`);
  assert.equal(read.status, 200);
  assert.equal(((await read.json()) as { info: { name: string } }).info.name, 'acknowledged');
});
