import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startTestStore } from '../helpers/store.js';
import { startTeam } from '../helpers/team.js';

/**
 * A loopback HTTP server that answers nothing until told: a request proxied to it stays in
 * flight on the store, and `arrived(n)` tells when the store has sent the first n.
 */
async function holdingTarget() {
  const held: ServerResponse[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((_request, response) => {
    held.push(response);
    for (const waiter of waiters.filter((w) => held.length >= w.count)) waiter.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`,
    arrived: (count: number) => new Promise<void>((resolve) => (held.length >= count ? resolve() : waiters.push({ count, resolve }))),
    release: () => held.splice(0).forEach((response) => response.end('done')),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('a teammate with too many requests in flight gets 429 too_many_requests; the others, and his later requests, are served', async () => {
  const target = await holdingTarget();
  const team = await startTeam({ limits: { concurrentRequestsPerUser: 2 }, proxy: { allowPrivateTargets: true } });
  try {
    const proxied = [0, 1].map(() => team.call(team.bob, '/proxy', { method: 'POST', body: { url: target.url } }));
    await target.arrived(2);

    const refused = await team.store.api('/files', { token: team.bob.token });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    assert.equal(((await refused.json()) as { code: string }).code, 'too_many_requests');
    const upload = await team.call(team.bob, '/files', { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: 'refused' } } });
    assert.equal(upload.status, 429);

    assert.equal((await team.call(team.alice, '/files')).status, 200);
    assert.equal((await team.call(team.admin, '/files')).status, 200);

    target.release();
    assert.deepEqual((await Promise.all(proxied)).map((answer) => answer.status), [200, 200]);
    assert.equal((await team.call(team.bob, '/files')).status, 200);
    assert.equal((await team.call(team.bob, '/files')).body.items.length, 0, 'the refused create stored nothing');
  } finally {
    await team.stop();
    await target.close();
  }
});

test('the local owner is not limited', async () => {
  const target = await holdingTarget();
  const store = await startTestStore({ limits: { concurrentRequestsPerUser: 1 } });
  try {
    const proxied = [0, 1].map(() => store.api('/proxy', { method: 'POST', body: { url: target.url } }));
    await target.arrived(2);
    assert.equal((await store.api('/files')).status, 200);
    target.release();
    assert.deepEqual((await Promise.all(proxied)).map((answer) => answer.status), [200, 200]);
  } finally {
    await store.stop();
    await target.close();
  }
});
