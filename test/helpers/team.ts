import assert from 'node:assert/strict';
import { hashPassword } from '../../backend/src/auth/passwords.js';
import type { StoreConfigInput } from '../../backend/src/config.js';
import type { StoreOptions } from '../../backend/src/server.js';
import { createUser } from '../../backend/src/store/users.js';
import type { SignedInUser } from './accounts.js';
import { startTestStore, type TestStore } from './store.js';

/** A headless multi-user store (plain HTTP on 127.0.0.1) with an admin and two teammates signed in. */
export interface Team {
  store: TestStore;
  admin: SignedInUser;
  alice: SignedInUser;
  bob: SignedInUser;
  /** fetch as one of them, JSON decoded; `body` is `{}` for an empty answer. */
  call(user: SignedInUser, path: string, init?: Parameters<TestStore['api']>[1]): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

async function account(store: TestStore, username: string, admin: boolean): Promise<SignedInUser> {
  const password = `${username} password`;
  const user = await createUser(store.running.services.store, { username, name: username, admin, passwordHash: await hashPassword(password) });
  const response = await store.api('/sessions', { method: 'POST', token: null, body: { username, password } });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  return { key: user.key, token: (JSON.parse(text) as { token: string }).token };
}

export async function startTeam(overrides: Partial<StoreConfigInput> = {}, options: StoreOptions = {}): Promise<Team> {
  const store = await startTestStore({ mode: 'multi-user', insecureHttp: true, ...overrides }, options);
  const [admin, alice, bob] = [await account(store, 'admin', true), await account(store, 'alice', false), await account(store, 'bob', false)];
  return {
    store,
    admin,
    alice,
    bob,
    async call(user, path, init = {}) {
      const response = await store.api(path, { ...init, token: user.token });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
    },
    stop: () => store.stop(),
  };
}
