import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { test } from 'node:test';
import WebSocket from 'ws';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { exitOf, forkBackend, nextMessage } from '../helpers/backend-process.js';
import { EventSocket } from '../helpers/event-socket.js';
import { pinnedFetch } from '../helpers/pinned-https.js';
import { makeTempDir } from '../helpers/store.js';

/** The "LAN" address of these tests: loopback, never a real network. */
const lanHost = '127.0.0.2';

async function startBackend(t: import('node:test').TestContext) {
  const dataDir = await makeTempDir();
  const token = createLaunchToken();
  const child = forkBackend();
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.send({ type: 'shutdown' });
      await exitOf(child);
    }
    await rm(dataDir, { recursive: true, force: true });
  });
  // Discovery off: a child process cannot be handed a recording responder, and tests send no multicast.
  child.send({ type: 'start', config: { dataDir, token, logLevel: 'silent', lan: { discovery: false } } });
  const { port } = await nextMessage(child, 'ready');
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${baseUrl}${path}`, {
      method: init.method,
      headers: { Authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const lan = async (message: { enabled: boolean; host?: string; port?: number }) => {
    const status = nextMessage(child, 'lan-status');
    child.send({ type: 'lan', ...message });
    return status;
  };
  return { child, token, baseUrl, api, lan };
}

test('LAN sharing on/off/on: a local WebSocket client stays connected and keeps receiving events; LAN sockets end with sharing', async (t) => {
  const backend = await startBackend(t);
  const local = await EventSocket.open(backend.baseUrl, backend.token);
  t.after(() => local.close());
  assert.deepEqual(await local.command(0, '/files'), { type: 'ack', cmd: 0, path: '/files' });

  const createSpace = async (name: string) => {
    const response = await backend.api('/files', { method: 'POST', body: { kind: 'Core#Space', info: { name } } });
    assert.equal(response.status, 201);
    const { key } = (await response.json()) as { key: string };
    const event = await local.next();
    assert.equal(event.type, 'event');
    assert.equal(event.id, key);
    return key;
  };

  const on = await backend.lan({ enabled: true, host: lanHost, port: 0 });
  assert.equal(on.enabled, true, on.error);
  assert.ok(on.url && on.fingerprint);
  assert.equal((await pinnedFetch(`${on.url}/store`, on.fingerprint)).status, 200);
  await createSpace('while sharing');

  // A teammate joins over the LAN and opens an event socket there.
  const invite = (await (await backend.api('/auth/invites', { method: 'POST' })).json()) as { code: string };
  const account = { username: 'bob', password: 'long enough password' };
  assert.equal((await pinnedFetch(`${on.url}/auth/invites/redeem`, on.fingerprint, { method: 'POST', body: { code: invite.code, name: 'Bob', ...account } })).status, 201);
  const { token: bobToken } = (await pinnedFetch(`${on.url}/sessions`, on.fingerprint, { method: 'POST', body: account })).body as { token: string };
  const teammate = new WebSocket(`${on.url.replace(/^https/, 'wss')}/events?token=${bobToken}`, { rejectUnauthorized: false });
  await new Promise((resolve, reject) => teammate.once('open', resolve).once('error', reject));
  const teammateClosed = new Promise<number>((resolve) => teammate.once('close', (code) => resolve(code)));

  const off = await backend.lan({ enabled: false });
  assert.deepEqual(off, { type: 'lan-status', enabled: false });
  assert.equal(await teammateClosed, 1001, "the teammate's socket ends with sharing");
  await assert.rejects(pinnedFetch(`${on.url}/store`, on.fingerprint), /ECONNREFUSED/);
  await createSpace('not sharing');

  const again = await backend.lan({ enabled: true, host: lanHost, port: 0 });
  assert.equal(again.enabled, true, again.error);
  assert.equal(again.fingerprint, on.fingerprint);
  assert.equal((await pinnedFetch(`${again.url}/users/me`, again.fingerprint, { token: bobToken })).status, 200, 'sessions survive a toggle');
  await createSpace('sharing again');

  assert.equal(local.socket.readyState, WebSocket.OPEN, 'the local socket was never closed');
});

test('a LAN port already in use → lan-status with an error; the backend keeps serving locally', async (t) => {
  const backend = await startBackend(t);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, lanHost, resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as import('node:net').AddressInfo).port;

  const failed = await backend.lan({ enabled: true, host: lanHost, port });
  assert.equal(failed.enabled, false);
  assert.match(failed.error ?? '', new RegExp(`Port ${port} .* in use`));
  assert.equal((await backend.api('/store')).status, 200);
  assert.equal(backend.child.exitCode, null, 'the backend is still running');

  const elsewhere = await backend.lan({ enabled: true, host: lanHost, port: 0 });
  assert.equal(elsewhere.enabled, true, 'a later toggle still works');
});
