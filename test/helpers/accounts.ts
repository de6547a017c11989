import assert from 'node:assert/strict';
import { hashPassword } from '../../backend/src/auth/passwords.js';
import { createUser } from '../../backend/src/store/users.js';
import type { TestStore } from './store.js';

/** A user of a multi-user test store: its key and a session token from a real login. */
export interface SignedInUser {
  key: string;
  token: string;
}

/** Creates an account in the store and logs it in through `POST /sessions`. */
export async function signIn(store: TestStore, username: string): Promise<SignedInUser> {
  const password = `${username} password`;
  const user = await createUser(store.running.services.store, { username, name: username, admin: false, passwordHash: await hashPassword(password) });
  const response = await store.api('/sessions', { method: 'POST', token: null, body: { username, password } });
  const body = await response.text();
  assert.equal(response.status, 201, body);
  return { key: user.key, token: (JSON.parse(body) as { token: string }).token };
}
