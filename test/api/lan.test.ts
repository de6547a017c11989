import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Advertisement, MdnsResponder } from '../../backend/src/lan/mdns.js';
import { pinnedFetch } from '../helpers/pinned-https.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

/** Records what would be announced over mDNS; nothing is sent. */
function recordingResponder() {
  const live = new Set<Advertisement>();
  const responder: MdnsResponder = {
    advertise(advertisement) {
      live.add(advertisement);
      return { stop: async () => void live.delete(advertisement) };
    },
    close: async () => live.clear(),
  };
  return { responder, live };
}

/** The "LAN" address of these tests: loopback, never a real network. */
const lanHost = '127.0.0.2';

async function enableLan(store: TestStore) {
  const status = await store.running.lan.enable({ host: lanHost, port: 0 });
  assert.equal(status.enabled, true, status.error);
  return status as { enabled: true; url: string; fingerprint: string };
}

test('TLS: a client pinned to the reported fingerprint connects; the certificate survives a restart', async () => {
  const mdns = recordingResponder();
  let store = await startTestStore({}, { mdns: mdns.responder });
  try {
    const lan = await enableLan(store);
    assert.match(lan.url, new RegExp(`^https://${lanHost.replaceAll('.', '\\.')}:\\d+/v1$`));
    assert.match(lan.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const info = await pinnedFetch(`${lan.url}/store`, lan.fingerprint);
    assert.equal(info.status, 200);
    assert.equal(info.body.mode, 'multi-user', 'teammates see a multi-user store');
    assert.deepEqual(info.body.hosting, { host: lanHost, port: Number(new URL(lan.url).port), prefix: '/v1' });
    assert.match(String(info.headers['strict-transport-security']), /max-age=/);
    await assert.rejects(pinnedFetch(`${lan.url}/store`, lan.fingerprint.replace(/^../, '00')), /does not match the pin/);

    // The loopback listener is untouched and still plain HTTP, without HSTS.
    const local = await store.api('/store');
    assert.equal(local.status, 200);
    assert.equal(local.headers.get('Strict-Transport-Security'), null);

    assert.equal((await stat(join(store.dataDir, 'lan-key.pem'))).mode & 0o777, 0o600);
    assert.deepEqual(
      [...mdns.live].map((a) => ({ type: a.type, port: a.port, txt: a.txt })),
      // No version in the TXT record: it would tell the network which release to attack.
      [{ type: 'api-store', port: Number(new URL(lan.url).port), txt: { path: '/v1', scheme: 'https', fingerprint: lan.fingerprint } }],
    );
    assert.deepEqual(await store.running.lan.disable(), { enabled: false });
    assert.equal(mdns.live.size, 0, 'the announcement stops with sharing');

    await store.stop({ keepData: true });
    store = await startTestStore({ dataDir: store.dataDir }, { mdns: mdns.responder });
    const again = await enableLan(store);
    assert.equal(again.fingerprint, lan.fingerprint);
    assert.equal((await pinnedFetch(`${again.url}/store`, lan.fingerprint)).status, 200);
  } finally {
    await store.stop();
  }
});

test('over the LAN listener: the launch token never works, teammates sign in, admin routes are refused, and a teammate sees only what was shared', async () => {
  const store = await startTestStore({}, { mdns: recordingResponder().responder });
  try {
    const lan = await enableLan(store);
    const overLan = (path: string, init: Parameters<typeof pinnedFetch>[2] = {}) => pinnedFetch(`${lan.url}${path}`, lan.fingerprint, init);

    const withLaunchToken = await overLan('/files', { token: store.token });
    assert.equal(withLaunchToken.status, 401);

    // The desktop owner invites two teammates on the loopback listener.
    const invites = [];
    for (let i = 0; i < 2; i++) {
      const response = await store.api('/auth/invites', { method: 'POST' });
      assert.equal(response.status, 201);
      invites.push(((await response.json()) as { code: string }).code);
    }
    const accounts: { key: string; token: string }[] = [];
    for (const [i, username] of ['bob', 'carol'].entries()) {
      const created = await overLan('/auth/invites/redeem', { method: 'POST', body: { code: invites[i], username, name: username, password: 'long enough password' } });
      assert.equal(created.status, 201);
      const login = await overLan('/sessions', { method: 'POST', body: { username, password: 'long enough password' } });
      assert.equal(login.status, 201);
      accounts.push({ key: created.body.key, token: login.body.token });
    }
    const [bob, carol] = accounts;

    const me = await overLan('/users/me', { token: bob.token });
    assert.equal(me.body.key, bob.key);
    const invite = await overLan('/auth/invites', { method: 'POST', token: bob.token });
    assert.equal(invite.status, 403);
    assert.equal(invite.body.code, 'admin_only');
    assert.equal((await overLan(`/sessions?user=${bob.key}`, { token: bob.token })).status, 403);

    // The owner makes two spaces and shares one with bob.
    const spaces = [];
    for (const name of ['shared with bob', 'private']) {
      const response = await store.api('/files', { method: 'POST', body: { kind: 'Core#Space', info: { name } } });
      assert.equal(response.status, 201);
      spaces.push(((await response.json()) as { key: string }).key);
    }
    const grant = await store.api(`/files/${spaces[0]}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: 'reader' }] });
    assert.equal(grant.status, 200);

    const sharedWithBob = await overLan('/shared', { token: bob.token });
    assert.equal(sharedWithBob.status, 200);
    assert.deepEqual(sharedWithBob.body.items.map((f: { key: string }) => f.key), [spaces[0]]);
    assert.deepEqual((await overLan('/files', { token: bob.token })).body.items, [], 'bob owns nothing');
    assert.equal((await overLan(`/files/${spaces[0]}`, { token: bob.token })).status, 200);
    assert.equal((await overLan(`/files/${spaces[1]}`, { token: bob.token })).status, 404);
    assert.deepEqual((await overLan('/shared', { token: carol.token })).body.items, []);
    assert.deepEqual((await overLan('/files', { token: carol.token })).body.items, []);
    assert.equal((await overLan(`/files/${spaces[0]}`, { token: carol.token })).status, 404);
    // A reader cannot write.
    const patch = await overLan(`/files/${spaces[0]}`, { method: 'PATCH', token: bob.token, body: [{ op: 'replace', path: '/info/name', value: 'mine' }] });
    assert.equal(patch.status, 403);
  } finally {
    await store.stop();
  }
});

test('a port in use is reported, and the store keeps serving locally', async () => {
  const store = await startTestStore({}, { mdns: recordingResponder().responder });
  try {
    const first = await enableLan(store);
    const port = Number(new URL(first.url).port);
    await store.running.lan.disable();
    const other = await startTestStore({}, { mdns: recordingResponder().responder });
    try {
      await other.running.lan.enable({ host: lanHost, port });
      const failed = await store.running.lan.enable({ host: lanHost, port });
      assert.equal(failed.enabled, false);
      assert.match(failed.error ?? '', /in use/);
      assert.equal((await store.api('/store')).status, 200);
    } finally {
      await other.stop();
    }
  } finally {
    await store.stop();
  }
});
