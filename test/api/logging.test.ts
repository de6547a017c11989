import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { configSchema } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import { startStore } from '../../backend/src/server.js';
import { EventSocket } from '../helpers/event-socket.js';
import { makeTempDir } from '../helpers/store.js';

/** A real store whose log lines are kept in memory instead of going to stderr. */
async function startLoggedStore(level: 'info' | 'debug' = 'info') {
  const dataDir = await makeTempDir();
  const token = createLaunchToken();
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = createLogger(level, (line) => {
    raw.push(line);
    lines.push(JSON.parse(line));
  });
  const running = await startStore(configSchema.parse({ dataDir, token, logLevel: level }), log);
  return { running, token, lines, raw, baseUrl: `http://127.0.0.1:${running.port}/v1`, dataDir };
}

test('one JSON line per request, with the request id and never the token', async (t) => {
  const store = await startLoggedStore();
  t.after(async () => {
    await store.running.stop();
    await rm(store.dataDir, { recursive: true, force: true });
  });
  const res = await fetch(`${store.baseUrl}/openapi.json`, { headers: { Authorization: `Bearer ${store.token}`, 'X-Request-ID': 'trace-1' } });
  assert.equal(res.status, 200);
  await fetch(`${store.baseUrl}/events?token=${store.token}`);
  const requests = store.lines.filter((line) => line.msg === 'request');
  assert.deepEqual(
    requests.map(({ requestId, method, path, status, level }) => ({ requestId, method, path, status, level })),
    [
      { requestId: 'trace-1', method: 'GET', path: '/v1/openapi.json', status: 200, level: 'info' },
      { requestId: requests[1].requestId, method: 'GET', path: '/v1/events', status: 426, level: 'info' },
    ],
  );
  assert.ok(store.raw.every((line) => !line.includes(store.token)), 'the token is in no log line');
});

test('a failure inside the store is a 500 problem without details, logged with its request id', async (t) => {
  const store = await startLoggedStore();
  t.after(async () => {
    await store.running.stop().catch(() => {});
    await rm(store.dataDir, { recursive: true, force: true });
  });
  // The database closing under a running server stands for any fault the client did not cause.
  await store.running.services.store.storage.close();
  const res = await fetch(`${store.baseUrl}/files/00000000-0000-4000-8000-000000000000`, { headers: { Authorization: `Bearer ${store.token}`, 'X-Request-ID': 'trace-500' } });
  assert.equal(res.status, 500);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.code, 'internal_error');
  assert.ok(!JSON.stringify(body).includes('    at '), 'no stack trace in the response');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const logged = store.lines.find((line) => line.msg === 'unhandled error');
  assert.equal(logged?.requestId, 'trace-500');
  assert.equal(logged?.level, 'error');
});

test('no log line holds the token: bearer requests, a refused one, a ?token= WebSocket upgrade, at debug level', async (t) => {
  const store = await startLoggedStore('debug');
  t.after(async () => {
    await store.running.stop();
    await rm(store.dataDir, { recursive: true, force: true });
  });
  const headers = { Authorization: `Bearer ${store.token}`, 'Content-Type': 'application/json' };
  const created = await fetch(`${store.baseUrl}/files`, { method: 'POST', headers, body: JSON.stringify({ kind: 'Core#Space', info: { name: 'logged' } }) });
  assert.equal(created.status, 201);
  assert.equal((await fetch(`${store.baseUrl}/files?token=${store.token}`, { headers: { Authorization: `Bearer ${store.token}x` } })).status, 401);
  const socket = await EventSocket.open(store.baseUrl, store.token);
  assert.equal((await socket.command(0, '/files')).type, 'ack');
  await socket.close();
  await store.running.stop();
  assert.ok(store.lines.some((line) => line.msg === 'request' && line.path === '/v1/events'), 'the upgrade is logged');
  assert.ok(store.raw.length >= 4);
  assert.ok(store.raw.every((line) => !line.includes(store.token)), 'the token is in no log line');
});

test('credential fields are redacted even when a caller logs one by mistake', () => {
  const raw: string[] = [];
  const log = createLogger('debug', (line) => raw.push(line));
  const secret = createLaunchToken();
  log.warn('careless', { authorization: `Bearer ${secret}`, token: secret, request: { headers: { authorization: secret }, password: secret } });
  assert.equal(raw.length, 1);
  assert.ok(!raw[0].includes(secret), raw[0]);
  assert.equal(JSON.parse(raw[0]).token, '[redacted]');
});
