import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

/**
 * OpenID Connect against a real provider on loopback. The store's redirect URI must be known
 * before it starts, so the test first asks the system for a free port for it.
 */
let provider: TestProvider;
let store: TestStore;
let callbackUrl: string;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

before(async () => {
  const port = await freePort();
  const redirectBase = `http://127.0.0.1:${port}`;
  callbackUrl = `${redirectBase}/v1/auth/oidc/callback`;
  provider = await startTestProvider(callbackUrl);
  store = await startTestStore({
    mode: 'multi-user',
    insecureHttp: true,
    port,
    auth: { type: 'oidc', oidc: { issuerUri: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, redirectBase } },
  });
});
after(async () => {
  await store?.stop();
  await provider?.stop();
});

/** Asks the store to start a login; returns the provider URL it redirects to. */
async function startLogin(): Promise<URL> {
  const response = await store.api('/auth/oidc/login', { token: null, redirect: 'manual' });
  assert.equal(response.status, 302);
  return new URL(response.headers.get('Location')!);
}

async function expectLoginFailed(response: Response, detail: RegExp) {
  assert.equal(response.status, 401);
  const problem = (await response.json()) as { code: string; detail: string };
  assert.equal(problem.code, 'oidc_login_failed');
  assert.match(problem.detail, detail);
}

test('login → provider → callback → session; the user is created on first login only', async () => {
  const info = (await (await store.api('/store', { token: null })).json()) as { auth: { type: string; path: string } };
  assert.deepEqual(info.auth, { type: 'oidc', path: '/v1/auth/oidc/login' });

  const authorization = await startLogin();
  assert.equal(authorization.origin, provider.issuer);
  assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
  for (const param of ['state', 'nonce', 'code_challenge']) assert.ok(authorization.searchParams.get(param), param);
  assert.equal(authorization.searchParams.get('redirect_uri'), callbackUrl);

  const redirect = await provider.authorize(authorization.href);
  const response = await fetch(redirect);
  assert.equal(response.status, 200);
  const session = (await response.json()) as { token: string; user: { key: string; name: string; admin: boolean } };
  assert.equal(session.user.name, 'Alice Example');
  assert.equal(session.user.admin, false);
  const me = await store.api('/users/me', { token: session.token });
  assert.equal(((await me.json()) as { key: string }).key, session.user.key);

  const again = (await (await fetch(await provider.authorize((await startLogin()).href))).json()) as { user: { key: string } };
  assert.equal(again.user.key, session.user.key, 'the same account on the next login');
});

test('a replayed code is refused, with its own state or with a fresh one', async () => {
  const redirect = await provider.authorize((await startLogin()).href);
  assert.equal((await fetch(redirect)).status, 200);
  await expectLoginFailed(await fetch(redirect), /state is unknown, used or expired/);

  const fresh = (await startLogin()).searchParams.get('state')!;
  const replay = new URL(redirect);
  replay.searchParams.set('state', fresh);
  await expectLoginFailed(await fetch(replay), /refused the code/);
});

test('a forged state is refused', async () => {
  const redirect = await provider.authorize((await startLogin()).href);
  const forged = new URL(redirect);
  forged.searchParams.set('state', 'forged-state');
  await expectLoginFailed(await fetch(forged), /state is unknown/);
});

test('an ID token with another nonce is refused', async () => {
  const authorization = await startLogin();
  authorization.searchParams.set('nonce', 'a-nonce-the-store-never-issued');
  await expectLoginFailed(await fetch(await provider.authorize(authorization.href)), /nonce mismatch/);
});

test('an error from the provider, and a store without OIDC', async () => {
  await expectLoginFailed(await fetch(`${callbackUrl}?state=whatever&error=access_denied`), /access_denied/);
  const plain = await startTestStore();
  try {
    const response = await plain.api('/auth/oidc/login', { token: null, redirect: 'manual' });
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { code: string }).code, 'oidc_not_configured');
  } finally {
    await plain.stop();
  }
});
