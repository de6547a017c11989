import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { configSchema } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import { startStore } from '../../backend/src/server.js';
import { makeTempDir } from '../helpers/store.js';

/** A real store whose log lines are kept in memory instead of going to stderr. */
async function startLoggedStore() {
  const dataDir = await makeTempDir();
  const token = createLaunchToken();
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = createLogger('info', (line) => {
    raw.push(line);
    lines.push(JSON.parse(line));
  });
  const running = await startStore(configSchema.parse({ dataDir, token }), log);
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
