import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { after, test } from 'node:test';
import { hashPassword } from '../../backend/src/auth/passwords.js';
import { openPostgresStorage } from '../../backend/src/store/postgres-storage.js';
import { createUser } from '../../backend/src/store/users.js';
import { verifyStore } from '../../backend/src/store/verify.js';
import { exitOf } from '../helpers/backend-process.js';
import { runCli, waitForLine } from '../helpers/cli-process.js';
import { EventSocket, readFeed, type Frame } from '../helpers/event-socket.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { makeTempDir, startTestStore } from '../helpers/store.js';

/**
 * Several api-store instances on one PostgreSQL database: real server processes, each with its
 * own data dir, the same database and launch token.
 */
const token = 'i'.repeat(43);
const children = new Set<ChildProcess>();
const dirs: string[] = [];
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...children].map((child) => exitOf(child)));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Instance {
  child: ChildProcess;
  base: string;
}

async function startInstance(url: string): Promise<Instance> {
  const dataDir = await makeTempDir();
  dirs.push(dataDir);
  const child = runCli(['--server', '--data-dir', dataDir, '--log-level', 'silent'], { API_STORE_TOKEN: token, API_STORE_STORAGE_URL: url });
  children.add(child);
  const [, base] = await waitForLine(child, /listening on (\S+)\n/);
  return { child, base };
}

const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

async function createNote(instance: Instance, name: string): Promise<string> {
  const response = await fetch(`${instance.base}/files`, { method: 'POST', headers, body: JSON.stringify({ kind: 'Core#Note', info: { name } }) });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { key: string }).key;
}

async function readable(instance: Instance, key: string): Promise<boolean> {
  const response = await fetch(`${instance.base}/files/${key}`, { headers });
  await response.arrayBuffer();
  return response.status === 200;
}


/** The whole change feed as `instance` serves it. */
const wholeFeed = (instance: Instance) => readFeed((path) => fetch(`${instance.base}${path}`, { headers }), 'since=0');

/** `count` writers, each creating `each` notes one after another; the keys acknowledged. */
async function writers(instance: Instance, label: string, count: number, each: number): Promise<string[]> {
  const lists = await Promise.all(
    Array.from({ length: count }, async (_, w) => {
      const keys: string[] = [];
      for (let n = 0; n < each; n++) keys.push(await createNote(instance, `${label}-${w}-${n}`));
      return keys;
    }),
  );
  return lists.flat();
}

test('concurrent writers on two instances: every acknowledged write is readable from either, the feed has no gap, an observer on B gets all changes in order, since resumes on either', async () => {
  const url = await (await sharedPostgres()).createDatabase();
  const a = await startInstance(url);
  const b = await startInstance(url);
  const observer = await EventSocket.open(b.base, token);
  assert.equal((await observer.command(0, '/files')).type, 'ack');

  const [fromA, fromB] = await Promise.all([writers(a, 'a', 4, 15), writers(b, 'b', 4, 15)]);
  const all = [...fromA, ...fromB];
  assert.equal(new Set(all).size, 120);
  for (const key of all) {
    assert.ok(await readable(a, key), `${key} on A`);
    assert.ok(await readable(b, key), `${key} on B`);
  }

  const feed = await wholeFeed(a);
  assert.deepEqual(
    feed.map((frame) => frame.seq),
    Array.from({ length: 120 }, (_, i) => i + 1),
    'seqs 1..120, no gap, no duplicate',
  );
  assert.deepEqual(new Set(feed.map((frame) => frame.id)), new Set(all));
  assert.deepEqual(await wholeFeed(b), feed, 'both instances serve the same feed');

  const observed = await observer.take(120);
  assert.deepEqual(
    observed.map((frame) => frame.seq),
    feed.map((frame) => frame.seq),
    "B's observer receives A's and B's changes in seq order",
  );
  assert.deepEqual(
    observed.map((frame) => frame.id),
    feed.map((frame) => frame.id),
  );

  // A later change on A reaches B's observer live; a socket on A resumes from a seq B delivered.
  const live = await createNote(a, 'live');
  assert.deepEqual([(await observer.next()).id, observer.pending], [live, 0]);
  const resumed = await EventSocket.open(a.base, token);
  assert.equal((await resumed.command(0, '/files', { since: 100 })).type, 'ack');
  assert.deepEqual(
    (await resumed.take(21)).map((frame) => frame.seq),
    Array.from({ length: 21 }, (_, i) => 101 + i),
  );
  assert.deepEqual(await resumed.next(), { type: 'replayed', path: '/files', seq: 121 });
  await resumed.close();
  await observer.close();
});

test('SIGKILL of one instance in the middle of writes loses no acknowledged write; the other serves them all', async () => {
  const url = await (await sharedPostgres()).createDatabase();
  const a = await startInstance(url);
  const b = await startInstance(url);
  const acknowledged: string[] = [];
  let failed = 0;
  const writing = Promise.all(
    Array.from({ length: 6 }, async (_, w) => {
      for (let n = 0; failed === 0; n++) {
        try {
          acknowledged.push(await createNote(a, `w${w}-${n}`));
        } catch {
          failed += 1;
        }
      }
    }),
  );
  const bWrites = await writers(b, 'b', 2, 10);
  while (acknowledged.length < 60) await new Promise((resolve) => setImmediate(resolve));
  a.child.kill('SIGKILL');
  await writing;
  await exitOf(a.child);

  for (const key of [...acknowledged, ...bWrites]) assert.ok(await readable(b, key), `${key} survived`);
  const storage = await openPostgresStorage(url);
  try {
    const { problems } = await verifyStore(storage);
    assert.deepEqual(problems, [], 'no gap in the feed, no half-written record');
  } finally {
    await storage.close();
  }
  const after = await createNote(b, 'after the kill');
  const feed = await wholeFeed(b);
  assert.equal(feed.at(-1)?.id, after);
  assert.deepEqual(
    feed.map((frame) => frame.seq),
    Array.from({ length: feed.length }, (_, i) => i + 1),
  );
});

test('a teammate signed in through A is signed in on B; signing out on A ends the session on B; sign-in failures count across instances', async () => {
  const storage = await (await sharedPostgres()).createDatabase();
  const a = await startTestStore({ mode: 'multi-user', insecureHttp: true, storage });
  const b = await startTestStore({ mode: 'multi-user', insecureHttp: true, storage });
  try {
    await createUser(a.running.services.store, { username: 'alice', name: 'Alice', admin: false, passwordHash: await hashPassword('alice password') });
    const signIn = await a.api('/sessions', { method: 'POST', token: null, body: { username: 'alice', password: 'alice password' } });
    assert.equal(signIn.status, 201);
    const { token: session } = (await signIn.json()) as { token: string };
    assert.equal((await b.api('/files', { token: session })).status, 200);
    assert.equal((await a.api('/sessions', { method: 'DELETE', token: session })).status, 204);
    assert.equal((await b.api('/files', { token: session })).status, 401);

    // A guesser spreading wrong passwords over both instances is counted once: after ten failures
    // of one name from one address (five on A, five on B) the next try is refused, on either.
    for (const store of [a, b, a, b, a, b, a, b, a, b]) {
      const wrong = await store.api('/sessions', { method: 'POST', token: null, body: { username: 'alice', password: 'guess' } });
      assert.equal(wrong.status, 401);
    }
    const slowed = await b.api('/sessions', { method: 'POST', token: null, body: { username: 'alice', password: 'guess' } });
    assert.equal(slowed.status, 429);
    assert.equal(((await slowed.json()) as { code: string }).code, 'too_many_attempts');
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a file read on A, changed and then trashed through B, reads as changed and then as gone on A', async () => {
  const url = await (await sharedPostgres()).createDatabase();
  const a = await startInstance(url);
  const b = await startInstance(url);
  const key = await createNote(a, 'before');
  const nameOn = async (instance: Instance) => {
    const response = await fetch(`${instance.base}/files/${key}`, { headers });
    return [response.headers.get('etag'), ((await response.json()) as { info: { name: string } }).info.name];
  };
  assert.deepEqual(await nameOn(a), ['"1"', 'before']);
  assert.deepEqual(await nameOn(a), ['"1"', 'before']);
  const patched = await fetch(`${b.base}/files/${key}`, { method: 'PATCH', headers, body: JSON.stringify([{ op: 'replace', path: '/info/name', value: 'after' }]) });
  assert.equal(patched.status, 200, await patched.clone().text());
  assert.deepEqual(await nameOn(a), ['"2"', 'after']);
  assert.equal((await fetch(`${b.base}/files/${key}`, { method: 'DELETE', headers })).status, 204);
  assert.equal(await readable(a, key), false);
});

test('history written through A reaches an observer on B with the entry, which B reads from the entry\'s record', async () => {
  const url = await (await sharedPostgres()).createDatabase();
  const a = await startInstance(url);
  const b = await startInstance(url);
  const observer = await EventSocket.open(b.base, token);
  assert.equal((await observer.command(0, '/history')).type, 'ack');
  const entry = { app: 'instances-test', log: { request: { url: 'https://a.example.test/orders', method: 'GET', headers: '', startTime: 1 } } };
  const response = await fetch(`${a.base}/history`, { method: 'POST', headers, body: JSON.stringify(entry) });
  assert.equal(response.status, 201, await response.clone().text());
  const { key } = (await response.json()) as { key: string };
  const event = await observer.next();
  assert.deepEqual([event.id, event.operation, (event.data as { key: string; log: typeof entry.log }).key, (event.data as { log: typeof entry.log }).log.request.url], [key, 'created', key, entry.log.request.url]);
  await observer.close();
});

test('instances starting together on a new database both start, the schema migrated once', async () => {
  const storage = await (await sharedPostgres()).createDatabase();
  const [a, b] = await Promise.all([startTestStore({ storage }), startTestStore({ storage })]);
  try {
    assert.equal((await a.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name: 'one' } } })).status, 201);
    assert.equal((await b.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name: 'two' } } })).status, 201);
    assert.deepEqual((await verifyStore(a.running.services.store.storage)).problems, []);
  } finally {
    await a.stop();
    await b.stop();
  }
});
