import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { hashPassword } from '../../backend/src/auth/passwords.js';
import { isShared } from '../../backend/src/store/storage.js';
import { createUser } from '../../backend/src/store/users.js';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam, type Team } from '../helpers/team.js';

/**
 * A headless multi-user store (plain HTTP on loopback, `--insecure-http`) with a movable clock:
 * the account and session lifecycle, and login rate limiting.
 */
const week = 7 * 24 * 60 * 60 * 1000;
let now = Date.UTC(2026, 0, 1);
let store: TestStore;

async function login(username: string, password: string) {
  return store.api('/sessions', { method: 'POST', token: null, body: { username, password } });
}

async function tokenOf(username: string, password: string): Promise<string> {
  const response = await login(username, password);
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { token: string }).token;
}

async function invite(adminToken: string, body?: unknown): Promise<string> {
  const response = await store.api('/auth/invites', { method: 'POST', token: adminToken, body });
  assert.equal(response.status, 201);
  return ((await response.json()) as { code: string }).code;
}

async function redeem(code: string, username: string, password = 'correct horse battery') {
  return store.api('/auth/invites/redeem', { method: 'POST', token: null, body: { code, username, name: `${username}'s name`, password } });
}

let adminToken: string;

before(async () => {
  store = await startTestStore({ mode: 'multi-user', insecureHttp: true }, { clock: () => now });
  await createUser(store.running.services.store, { username: 'admin', name: 'Admin', admin: true, passwordHash: await hashPassword('admin password') });
  adminToken = await tokenOf('admin', 'admin password');
});
after(() => store.stop());

test('invite → account → login → session → renew → revoke → 401', async () => {
  const code = await invite(adminToken);
  assert.match(code, /^[A-Z2-9]{10}$/);
  const created = await redeem(code, 'bob');
  assert.equal(created.status, 201);
  const bob = (await created.json()) as { key: string; name: string; admin: boolean };
  assert.equal(created.headers.get('Location'), `/v1/users/${bob.key}`);
  assert.equal(bob.admin, false);
  assert.equal('passwordHash' in bob, false);

  const spent = await redeem(code, 'bob2');
  assert.equal(spent.status, 400);
  assert.equal(((await spent.json()) as { code: string }).code, 'invalid_invite');

  const first = await tokenOf('BOB', 'correct horse battery');
  const me = await store.api('/users/me', { token: first });
  assert.deepEqual(await me.json(), { key: bob.key, name: "bob's name", username: 'bob', admin: false, created: now });

  const renewed = await store.api('/sessions/renew', { method: 'POST', token: first });
  assert.equal(renewed.status, 200);
  const second = ((await renewed.json()) as { token: string; expires: number }).token;
  assert.equal((await store.api('/users/me', { token: first })).status, 401, 'the renewed token is replaced');
  assert.equal((await store.api('/users/me', { token: second })).status, 200);

  assert.equal((await store.api('/sessions', { method: 'DELETE', token: second })).status, 204);
  const revoked = await store.api('/users/me', { token: second });
  assert.equal(revoked.status, 401);
  assert.equal(revoked.headers.get('WWW-Authenticate'), 'Bearer');
});

test('expired, tampered and wrong-audience tokens are refused; expired sessions are pruned', async () => {
  assert.equal((await redeem(await invite(adminToken), 'carol')).status, 201);
  const token = await tokenOf('carol', 'correct horse battery');
  const [header, payload, signature] = token.split('.');
  const flipped = signature[0] === 'A' ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  assert.equal((await store.api('/users/me', { token: `${header}.${payload}.${flipped}` })).status, 401);
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub: string; jti: string; exp: number };
  const forgedClaims = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
  assert.equal((await store.api('/users/me', { token: `${header}.${forgedClaims}.${signature}` })).status, 401);

  // Signed with the store's own key (in the data dir, or in the database the instances share) but for another audience.
  const { store: records } = store.running.services;
  const key = isShared(records.storage) ? await records.secret('session') : Buffer.from((await readFile(join(store.dataDir, 'session.key'), 'utf8')).trim(), 'base64url');
  const otherAudience = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub).setJti(claims.jti).setAudience('urn:other').setExpirationTime(claims.exp).sign(key);
  assert.equal((await store.api('/users/me', { token: otherAudience })).status, 401);
  const sameAudience = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub).setJti(claims.jti).setAudience('urn:api-client').setExpirationTime(claims.exp).sign(key);
  assert.equal((await store.api('/users/me', { token: sameAudience })).status, 200, 'the control token is accepted');

  const sessions = async () => {
    const response = await store.api(`/sessions?user=${claims.sub}`, { token: adminToken });
    assert.equal(response.status, 200);
    return ((await response.json()) as { items: { id: string }[] }).items.map((s) => s.id);
  };
  assert.deepEqual(await sessions(), [claims.jti]);

  now += week + 1000;
  assert.equal((await store.api('/users/me', { token })).status, 401, 'expired');
  assert.equal((await store.api('/sessions/renew', { method: 'POST', token })).status, 401, 'an expired token is not renewed');
  adminToken = await tokenOf('admin', 'admin password'); // this login prunes expired sessions
  assert.deepEqual(await sessions(), []);
});

test('the admin lists and revokes a user’s sessions; others may not', async () => {
  assert.equal((await redeem(await invite(adminToken), 'dave')).status, 201);
  const token = await tokenOf('dave', 'correct horse battery');
  const dave = (await (await store.api('/users/me', { token })).json()) as { key: string };
  const forbidden = await store.api('/auth/invites', { method: 'POST', token });
  assert.equal(forbidden.status, 403);
  assert.equal(((await forbidden.json()) as { code: string }).code, 'admin_only');
  assert.equal((await store.api(`/sessions?user=${dave.key}`, { token })).status, 403);

  const list = (await (await store.api(`/sessions?user=${dave.key}`, { token: adminToken })).json()) as { items: { id: string }[] };
  assert.equal(list.items.length, 1);
  assert.equal((await store.api(`/sessions/${list.items[0].id}`, { method: 'DELETE', token: adminToken })).status, 204);
  assert.equal((await store.api('/users/me', { token })).status, 401);
  assert.equal((await store.api(`/sessions/${list.items[0].id}`, { method: 'DELETE', token: adminToken })).status, 404);

  const users = (await (await store.api('/users', { token: adminToken })).json()) as { items: { key: string; username?: string }[] };
  assert.ok(users.items.some((u) => u.username === 'dave'));
  assert.equal(users.items.at(-1)?.key, LOCAL_OWNER, 'the desktop owner, whom teammates share with, closes the list');
  // Paged one by one, every account and then the owner come exactly once, including the page
  // after one that the accounts fill exactly.
  const paged: string[] = [];
  let cursor: string | undefined;
  do {
    const page = (await (await store.api(`/users?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: adminToken })).json()) as { items: { key: string }[]; cursor?: string };
    paged.push(...page.items.map((u) => u.key));
    cursor = page.cursor;
  } while (cursor);
  assert.deepEqual(paged, users.items.map((u) => u.key));
  assert.equal((await store.api(`/users/${dave.key}`, { token: adminToken })).status, 200);
  assert.equal((await store.api('/users/nobody', { token: adminToken })).status, 404);
});

test('an invite expires', async () => {
  const code = await invite(adminToken, { lifetimeSeconds: 60 });
  now += 61_000;
  assert.equal((await redeem(code, 'late')).status, 400);
});

test('wrong user and wrong password get the same answer; repeated bad logins are rate-limited', async () => {
  now += 60 * 60 * 1000; // fresh attempt windows
  const unknown = await login('nobody', 'whatever');
  const wrong = await login('admin', 'wrong');
  assert.equal(unknown.status, 401);
  assert.equal(wrong.status, 401);
  const { instance: _a, ...unknownBody } = (await unknown.json()) as Record<string, unknown>;
  const { instance: _b, ...wrongBody } = (await wrong.json()) as Record<string, unknown>;
  assert.deepEqual(unknownBody, wrongBody);

  // Per user name and address: 10 failures in the window (one spent above), then 429 from that
  // address even with the right password (other addresses: see the attacker tests below).
  for (let i = 0; i < 9; i++) assert.equal((await login('admin', 'wrong')).status, 401);
  const limited = await login('admin', 'admin password');
  assert.equal(limited.status, 429);
  assert.equal(((await limited.json()) as { code: string }).code, 'too_many_attempts');
  assert.ok(Number(limited.headers.get('Retry-After')) > 0);

  now += 15 * 60 * 1000;
  assert.equal((await login('admin', 'admin password')).status, 201, 'allowed again after the window');

  // Per address: every attempt counts, even one whose body is not valid.
  for (let i = 0; i < 19; i++) assert.equal((await store.api('/sessions', { method: 'POST', token: null, body: {} })).status, 400);
  const byAddress = await login('admin', 'admin password');
  assert.equal(byAddress.status, 429);
  const redeemLimited = await redeem('ANYCODE123', 'eve');
  assert.equal(redeemLimited.status, 429, 'invite redemption shares the address limit');
});

test('the account routes are in the OpenAPI document', async () => {
  const response = await store.api('/openapi.json', { token: adminToken });
  assert.equal(response.status, 200);
  const { paths } = (await response.json()) as { paths: Record<string, unknown> };
  for (const path of ['/sessions', '/sessions/renew', '/sessions/{id}', '/users', '/users/me', '/users/{key}', '/auth/invites', '/auth/invites/redeem', '/auth/oidc/login', '/auth/oidc/callback']) {
    assert.ok(path in paths, path);
  }
});

/**
 * Password guessing against a teammate's or the admin's user name, from another address than the
 * owner's: the store listens on 127.0.0.1 and the attacker's client binds 127.0.0.2 (any
 * 127.0.0.0/8 address is loopback). Time moves only with the test's clock.
 */
describe('an attacker guessing passwords', () => {
  let clockNow = Date.UTC(2026, 2, 1);
  let team: Team;
  const agents = new Map<string, Agent>();

  /** POST /sessions from a client bound to `localAddress`. */
  async function loginFrom(localAddress: string, username: string, password: string) {
    let dispatcher = agents.get(localAddress);
    if (!dispatcher) agents.set(localAddress, (dispatcher = new Agent({ localAddress })));
    const response = await request(`${team.store.baseUrl}/sessions`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, retryAfter: Number(response.headers['retry-after']), body: text ? JSON.parse(text) : {} };
  }

  beforeEach(async () => {
    team = await startTeam({}, { clock: () => clockNow });
  });
  afterEach(async () => {
    await team.stop();
    await Promise.all([...agents.values()].map((agent) => agent.close()));
    agents.clear();
  });

  test('cannot lock alice or the admin out: each still signs in at once with the right password', async () => {
    for (const victim of ['alice', 'admin']) {
      // The attacker sends wrong passwords for the victim, waiting out every short delay it is given, until its address is refused.
      let failures = 0;
      for (let attempt = 0; attempt < 20; attempt++) {
        const guess = await loginFrom('127.0.0.2', victim, `guess ${attempt}`);
        if (guess.status === 401) failures += 1;
        else {
          assert.equal(guess.status, 429, JSON.stringify(guess.body));
          if (guess.retryAfter <= 300) clockNow += guess.retryAfter * 1000;
        }
      }
      assert.ok(failures >= 5, `${failures} wrong passwords were checked`);
      assert.equal((await loginFrom('127.0.0.2', victim, `${victim} password`)).status, 429, 'the right password does not help the attacker past its limit');

      // The owner, from the address they signed in from, is not held up at all.
      const owner = await loginFrom('127.0.0.1', victim, `${victim} password`);
      assert.equal(owner.status, 201, JSON.stringify(owner.body));
      assert.ok(owner.body.token);
      clockNow += 60 * 60 * 1000; // fresh windows for the next victim
    }
  });

  test('slows guessing by user name with a growing, capped delay, which a new address of the owner waits out once', async () => {
    // The attacker spreads over addresses, 5 wrong passwords each (under the per-address limits),
    // and waits out every delay to keep guessing.
    const delays: number[] = [];
    for (let failures = 0; failures < 16; ) {
      const guess = await loginFrom(`127.0.0.${10 + Math.floor(failures / 5)}`, 'alice', `guess ${failures}`);
      if (guess.status === 401) failures += 1;
      else {
        assert.equal(guess.status, 429, JSON.stringify(guess.body));
        delays.push(guess.retryAfter);
        clockNow += guess.retryAfter * 1000;
      }
    }
    assert.deepEqual(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300], 'after 5 free failures the delay doubles with each, up to 5 minutes');

    // Right after a failure, a fresh address with the right password is held up too...
    const fresh = await loginFrom('127.0.0.3', 'alice', 'alice password');
    assert.equal(fresh.status, 429);
    assert.equal(fresh.retryAfter, 300);
    // ...until the delay is over; then alice signs in, and that address is hers from then on.
    clockNow += fresh.retryAfter * 1000;
    assert.equal((await loginFrom('127.0.0.3', 'alice', 'alice password')).status, 201);
    assert.equal((await loginFrom('127.0.0.99', 'alice', 'guess again')).status, 401, 'the attacker may try once more now');
    assert.equal((await loginFrom('127.0.0.3', 'alice', 'alice password')).status, 201, 'and the new failure does not hold her up');
    // An admin name is never delayed on loopback (the store's operator at its machine), so the
    // admin signs in from an address new to it, after guesses that would delay any other name.
    // Every address here is loopback: the guesses too are limited per address only.
    for (let attempt = 0; attempt < 8; attempt++) assert.equal((await loginFrom(`127.0.0.${40 + attempt}`, 'admin', `guess ${attempt}`)).status, 401);
    assert.equal((await loginFrom('127.0.0.4', 'admin', 'admin password')).status, 201);
    assert.equal((await loginFrom('127.0.0.5', 'bob', 'bob password')).status, 201, 'other names are not delayed');
  });
});
