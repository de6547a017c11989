import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from '../../backend/src/auth/passwords.js';
import { isLoopbackAddress, LoginThrottle } from '../../backend/src/auth/login-throttle.js';
import { RateLimiter } from '../../backend/src/auth/rate-limit.js';
import { loadSessionKey } from '../../backend/src/auth/session-tokens.js';
import { memoryAttemptState, type AttemptState } from '../../backend/src/store/attempt-state.js';
import { createInvite } from '../../backend/src/store/invites.js';
import { isShared } from '../../backend/src/store/storage.js';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { Store } from '../../backend/src/store/store.js';
import { openTestStorage } from '../helpers/storage.js';
import { makeTempDir } from '../helpers/store.js';

test('passwords are hashed with argon2id and a salt; a missing account never verifies', async () => {
  const [first, second] = await Promise.all([hashPassword('a password'), hashPassword('a password')]);
  assert.match(first, /^\$argon2id\$/);
  assert.notEqual(first, second);
  assert.equal(await verifyPassword(first, 'a password'), true);
  assert.equal(await verifyPassword(first, 'another'), false);
  assert.equal(await verifyPassword(undefined, 'decoy password, never accepted'), false);
  assert.equal(await verifyPassword('not a hash', 'a password'), false);
});

/** The attempt counters in memory, or shared through a PostgreSQL database. */
async function attemptStateOf(kind: 'memory' | 'postgres', t: { after(fn: () => Promise<void>): void }): Promise<AttemptState> {
  if (kind === 'memory') return memoryAttemptState();
  const { storage, dispose } = await openTestStorage('postgres');
  t.after(dispose);
  assert.ok(isShared(storage));
  return storage.attempts;
}

for (const kind of ['memory', 'postgres'] as const) {
  test(`${kind}: the rate limiter counts per key within a window and says how long to wait`, async (t) => {
    const state = await attemptStateOf(kind, t);
    let now = 0;
    const limiter = new RateLimiter({ name: 'test', limit: 2, windowMs: 60_000, clock: () => now, state });
    assert.equal(await limiter.hit('a'), undefined);
    assert.equal(await limiter.hit('a'), undefined);
    now = 15_000;
    assert.equal(await limiter.hit('a'), 45);
    assert.equal(await limiter.hit('b'), undefined, 'other keys are not affected');
    now = 60_000;
    assert.equal(await limiter.hit('a'), undefined, 'a new window');
    assert.equal(await limiter.wait('a'), undefined, 'wait does not count');
    assert.equal(await limiter.hit('a'), undefined);
    now = 70_000;
    assert.equal(await limiter.wait('a'), 50, 'one more would be over');
    assert.equal(await limiter.wait('b'), undefined, 'one of two spent');
  });

  test(`${kind}: the login throttle delays a user name for new addresses only, and never an admin on loopback`, async (t) => {
    const state = await attemptStateOf(kind, t);
    let now = 0;
    const throttle = new LoginThrottle({ clock: () => now, windowMs: 60_000, failuresPerAddress: 3, freeFailures: 1, firstDelayMs: 1000, maxDelayMs: 4000, trustMs: 100_000, state });
    await throttle.succeeded('alice', '192.0.2.1');
    await throttle.failed('alice', '198.51.100.7');
    assert.equal(await throttle.wait('alice', '203.0.113.9', false), 1);
    await throttle.failed('alice', '198.51.100.7');
    assert.equal(await throttle.wait('alice', '203.0.113.9', false), 2);
    assert.equal(await throttle.wait('alice', '192.0.2.1', false), undefined, 'where alice signed in');
    assert.equal(await throttle.wait('alice', '203.0.113.9', true), undefined, 'an admin on loopback');
    assert.equal(await throttle.wait('bob', '203.0.113.9', false), undefined, 'another name');
    await throttle.failed('alice', '198.51.100.7');
    assert.equal(await throttle.wait('alice', '198.51.100.7', true), 60, 'the failing pair is over its limit, loopback admin or not');
    now = 200_000;
    assert.equal(await throttle.wait('alice', '203.0.113.9', false), undefined, 'failures are forgotten after a quiet window');
    assert.equal(await throttle.wait('alice', '192.0.2.1', false), undefined);
    for (const address of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.2']) assert.equal(isLoopbackAddress(address), true, address);
    for (const address of ['10.0.0.1', '::2', '::ffff:10.0.0.1', '128.0.0.1']) assert.equal(isLoopbackAddress(address), false, address);
  });
}

test('the session key is generated once into a 0600 file; a configured secret is used as given', async (t) => {
  const dir = await makeTempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = await loadSessionKey(dir);
  assert.equal(key.length, 32);
  assert.equal((await stat(join(dir, 'session.key'))).mode & 0o777, 0o600);
  assert.deepEqual(await loadSessionKey(dir), key);
  assert.deepEqual(await loadSessionKey(dir, 'c'.repeat(32)), new TextEncoder().encode('c'.repeat(32)));
});

test('invite codes are stored only as hashes', async (t) => {
  const dir = await makeTempDir();
  const storage = await openLevelStorage(dir, { sync: false });
  const store = await Store.open(storage);
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const { code } = await createInvite(store, 'owner', 60_000);
  const stored = [];
  for await (const entry of storage.entries('invites')) stored.push(JSON.stringify(entry));
  assert.equal(stored.length, 1);
  assert.ok(!stored[0].includes(code));
});
