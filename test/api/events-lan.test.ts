import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MdnsResponder } from '../../backend/src/lan/mdns.js';
import { EventSocket } from '../helpers/event-socket.js';
import { pinnedFetch } from '../helpers/pinned-https.js';
import { startTestStore } from '../helpers/store.js';

/** Nothing is announced: LAN sharing runs on a loopback address. */
const silent: MdnsResponder = { advertise: () => ({ stop: async () => {} }), close: async () => {} };

test('a teammate observes over the LAN listener with a session token; a revoked session and turning sharing off close only their sockets', async () => {
  const store = await startTestStore({ events: { heartbeatMs: 2000 } }, { mdns: silent });
  try {
    const lan = await store.running.lan.enable({ host: '127.0.0.2', port: 0 });
    assert.ok(lan.enabled && lan.url && lan.fingerprint, lan.error);
    const overLan = (path: string, init: Parameters<typeof pinnedFetch>[2] = {}) => pinnedFetch(`${lan.url}${path}`, lan.fingerprint!, init);

    const invite = await store.api('/auth/invites', { method: 'POST' });
    const { code } = (await invite.json()) as { code: string };
    const created = await overLan('/auth/invites/redeem', { method: 'POST', body: { code, username: 'dana', name: 'Dana', password: 'long enough password' } });
    assert.equal(created.status, 201);
    const login = await overLan('/sessions', { method: 'POST', body: { username: 'dana', password: 'long enough password' } });
    assert.equal(login.status, 201);
    const dana = { key: created.body.key as string, token: login.body.token as string };

    // The certificate is self-signed: this client checks the pinned fingerprint itself.
    const tls = { rejectUnauthorized: false };
    await assert.rejects(EventSocket.open(lan.url!, store.token, {}, tls), { status: 401 }, 'the launch token is not a LAN credential');
    const teammate = await EventSocket.open(lan.url!, dana.token, {}, tls);
    const peer = (teammate.socket as unknown as { _socket: { getPeerCertificate(): { fingerprint256: string } } })._socket.getPeerCertificate();
    assert.equal(peer.fingerprint256, lan.fingerprint);
    const local = await EventSocket.open(store.baseUrl, store.token);
    for (const socket of [teammate, local]) assert.equal((await socket.command(0, '/files')).type, 'ack');

    const space = await store.api('/files', { method: 'POST', body: { kind: 'Core#Space', info: { name: 'team' } } });
    const { key } = (await space.json()) as { key: string };
    assert.deepEqual((await local.next()).operation, 'created');
    const grant = await store.api(`/files/${key}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: dana.key, value: 'writer' }] });
    assert.equal(grant.status, 200);
    for (const socket of [teammate, local]) {
      const event = await socket.next();
      assert.deepEqual([event.operation, event.id], ['access-granted', key]);
    }

    // Logging out (revoking that session) ends the socket opened with it at the next heartbeat.
    const second = await overLan('/sessions', { method: 'POST', body: { username: 'dana', password: 'long enough password' } });
    const other = await EventSocket.open(lan.url!, second.body.token, {}, tls);
    assert.equal((await overLan('/sessions', { method: 'DELETE', token: second.body.token })).status < 300, true);
    assert.equal((await other.closed).code, 1008);
    assert.equal((await teammate.command(0, `/files/${key}`)).type, 'ack', 'the first session still works');

    await store.running.lan.disable();
    assert.equal((await teammate.closed).code, 1001);
    await store.api(`/files/${key}`, { method: 'PATCH', body: [{ op: 'replace', path: '/info/name', value: 'still here' }] });
    assert.deepEqual([(await local.next()).operation], ['patch'], 'the local socket is untouched');
    await local.close();
  } finally {
    await store.stop();
  }
});
