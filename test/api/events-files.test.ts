import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Authenticator } from '../../backend/src/auth/caller.js';
import { EventSocket, type Frame } from '../helpers/event-socket.js';
import { startTestStore, StoreUnavailableError, type TestStore } from '../helpers/store.js';

type Json = Record<string, any>;

/** Bearer `user-<name>` is that user; the launch token stays the local owner. */
const users: Authenticator = (credential) => {
  const match = /^user-([a-z]+)$/.exec(credential);
  return match ? { user: match[1], admin: false } : undefined;
};
const tokenOf = (store: TestStore, user: string) => (user === 'owner' ? store.token : `user-${user}`);

async function call(store: TestStore, path: string, init: Parameters<TestStore['api']>[1] = {}): Promise<Json> {
  const response = await store.api(path, init);
  const text = await response.text();
  assert.ok(response.ok, `${init.method ?? 'GET'} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

const create = (store: TestStore, body: Json, parent?: string) =>
  call(store, `/files${parent ? `?parent=${parent}` : ''}`, { method: 'POST', body });
const rename = (store: TestStore, key: string, name: string) =>
  call(store, `/files/${key}`, { method: 'PATCH', body: { app: 'events-test', appVersion: '1', patch: [{ op: 'replace', path: '/info/name', value: name }] } });
const share = (store: TestStore, key: string, ops: Json[]) => call(store, `/files/${key}/users`, { method: 'PATCH', body: ops });

/** Opens a socket for `user` observing `paths` (each acknowledged). */
async function observer(store: TestStore, user: string, ...paths: string[]): Promise<EventSocket> {
  const socket = await EventSocket.open(store.baseUrl, tokenOf(store, user));
  for (const path of paths) assert.equal((await socket.command(0, path)).type, 'ack', `${user} observes ${path}`);
  return socket;
}

/**
 * Proves what a socket did NOT receive without waiting on time: its user writes a history entry
 * (which only that user sees) and it must be the very next frame, since frames come in seq order.
 */
async function nothingBefore(store: TestStore, socket: EventSocket, user: string): Promise<void> {
  assert.equal((await socket.command(0, '/history')).type, 'ack');
  const entry = await call(store, '/history', {
    method: 'POST',
    token: tokenOf(store, user),
    body: { app: 'events-test', log: { request: { url: 'http://barrier.test', method: 'GET', headers: '', startTime: 1 } } },
  });
  const frame = await socket.next();
  assert.deepEqual([frame.operation, frame.id], ['created', entry.key], `${user} got ${JSON.stringify(frame)} before its barrier`);
  assert.equal((await socket.command(1, '/history')).type, 'ack');
}

/** Accounts whose keys are their names, so that grants (which must name an existing user) reach the users of `users`. */
async function seedAccounts(store: TestStore, names: string[]): Promise<void> {
  await store.running.services.store.mutate(async (m) => {
    for (const name of names) m.put('users', name, { key: name, name, admin: false, created: m.now });
  });
}

const pick = (frame: Frame) => ({ operation: frame.operation, id: frame.id });

describe('file events in local mode', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore({}, { authenticator: users });
    await seedAccounts(store, ['alice', 'bob', 'dora', 'finn']);
  });
  after(() => store.stop());

  test('every operation reaches /files and /files/{key}; contents changes only /files/{key}', async () => {
    const space = await create(store, { kind: 'Core#Space', info: { name: 'space' } });
    const all = await observer(store, 'owner', '/files');
    const one = await observer(store, 'owner', `/files/${space.key}`);
    try {
      const project = await create(store, { kind: 'Core#HttpProject', info: { name: 'p' } }, space.key);
      const created = await all.next();
      assert.deepEqual(pick(created), { operation: 'created', id: project.key });
      assert.equal(created.kind, 'Core#HttpProject');
      assert.equal(created.parent, space.key);
      assert.equal((created.data as Json).info.name, 'p');

      await rename(store, space.key, 'renamed');
      for (const socket of [all, one]) {
        const patch = await socket.next();
        assert.deepEqual(pick(patch), { operation: 'patch', id: space.key });
        assert.deepEqual((patch.data as Json).patch, [{ op: 'replace', path: '/info/name', value: 'renamed' }]);
        assert.deepEqual((patch.data as Json).revert, [{ op: 'replace', path: '/info/name', value: 'space' }]);
      }

      await call(store, `/files/${space.key}?alt=media`, { method: 'PUT', body: { requests: [] } });
      const media = await one.next();
      assert.deepEqual(pick(media), { operation: 'patch', id: space.key });
      assert.equal((media.data as Json).media, true);
      assert.ok(Array.isArray((media.data as Json).patch) && Array.isArray((media.data as Json).revert));

      await share(store, space.key, [{ op: 'add', type: 'user', id: 'alice', value: 'reader' }]);
      await share(store, space.key, [{ op: 'remove', type: 'user', id: 'alice' }]);
      for (const socket of [all, one]) {
        const [granted, removed] = await socket.take(2);
        assert.deepEqual([pick(granted), pick(removed)], [
          { operation: 'access-granted', id: space.key },
          { operation: 'access-removed', id: space.key },
        ]);
      }

      const response = await store.api(`/files/${space.key}`, { method: 'DELETE' });
      assert.ok(response.ok);
      const deletedAll = await all.take(2);
      assert.deepEqual(new Set(deletedAll.map(pick).map((e) => `${e.operation} ${e.id}`)), new Set([`deleted ${space.key}`, `deleted ${project.key}`]));
      assert.deepEqual(pick(await one.next()), { operation: 'deleted', id: space.key });

      // The media change went to /files/{key} only: the /files socket saw nothing else.
      await nothingBefore(store, all, 'owner');
      await nothingBefore(store, one, 'owner');
    } finally {
      await Promise.all([all.close(), one.close()]);
    }
  });

  test('a change observed through /files and /files/{key} on one socket is sent once, also on replay', async () => {
    const file = await create(store, { kind: 'Core#HttpProject', info: { name: 'twice' } });
    const socket = await observer(store, 'owner', '/files', `/files/${file.key}`);
    try {
      await rename(store, file.key, 'once');
      const live = await socket.next();
      assert.deepEqual(pick(live), { operation: 'patch', id: file.key });
      await rename(store, file.key, 'again');
      const second = await socket.next();
      // Replaying /files/{key} from before both patches adds nothing: /files already delivered them.
      assert.equal((await socket.command(0, `/files/${file.key}`, { since: (live.seq as number) - 1 })).type, 'ack');
      assert.deepEqual(await socket.next(), { type: 'replayed', path: `/files/${file.key}`, seq: second.seq });
      await nothingBefore(store, socket, 'owner');
      assert.equal(second.seq, (live.seq as number) + 1);
    } finally {
      await socket.close();
    }
  });
});

describe('permission filtering across users', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore({}, { authenticator: users });
    await seedAccounts(store, ['alice', 'bob', 'dora', 'finn']);
  });
  after(() => store.stop());

  test('history events reach the entry’s user and the readers of the space or project it is attached to', async () => {
    const space = await create(store, { kind: 'Core#Space', info: { name: 'team history' } });
    const project = await create(store, { kind: 'Core#HttpProject', info: { name: 'team api' } });
    await share(store, space.key, [{ op: 'add', type: 'user', id: 'dora', value: 'reader' }]);
    await share(store, project.key, [{ op: 'add', type: 'user', id: 'finn', value: 'reader' }]);
    const dora = await observer(store, 'dora', '/history');
    const finn = await observer(store, 'finn', '/history');
    const erin = await observer(store, 'erin', '/history');
    const log = (attachment: Json) =>
      call(store, '/history', { method: 'POST', body: { app: 'events-test', log: { request: { url: 'http://team.test', method: 'GET', headers: '', startTime: 1 } }, ...attachment } });
    try {
      const inSpace = await log({ space: space.key });
      assert.deepEqual(pick(await dora.next()), { operation: 'created', id: inSpace.key });
      const inProject = await log({ project: project.key });
      assert.deepEqual(pick(await finn.next()), { operation: 'created', id: inProject.key });
      await log({});
      // Frames come in seq order: each reader's next frame being this deletion proves that the
      // owner's unattached entry, and the other reader's entry, did not reach them.
      await call(store, `/history/${inSpace.key}`, { method: 'DELETE' });
      await call(store, `/history/${inProject.key}`, { method: 'DELETE' });
      assert.deepEqual(pick(await dora.next()), { operation: 'deleted', id: inSpace.key });
      assert.deepEqual(pick(await finn.next()), { operation: 'deleted', id: inProject.key });
      await nothingBefore(store, erin, 'erin');
    } finally {
      await Promise.all([dora.close(), finn.close(), erin.close()]);
    }
  });

  test('a visibility check that finds the database out of reach is tried again: the reader still gets the change, in order', async () => {
    const space = await create(store, { kind: 'Core#Space', info: { name: 'outage' } });
    await share(store, space.key, [{ op: 'add', type: 'user', id: 'alice', value: 'reader' }]);
    const alice = await observer(store, 'alice', '/files');
    // What a shared PostgreSQL does while it restarts: the hub's next read fails with StoreUnavailableError.
    const options = (store.running.services.events as unknown as { options: { canRead: (user: string, key: string) => Promise<boolean> } }).options;
    const canRead = options.canRead;
    options.canRead = async () => {
      options.canRead = canRead;
      throw new StoreUnavailableError(new Error('the database is restarting'));
    };
    try {
      const first = await create(store, { kind: 'Core#HttpProject', info: { name: 'during' } }, space.key);
      const second = await create(store, { kind: 'Core#HttpProject', info: { name: 'after' } }, space.key);
      assert.deepEqual(pick(await alice.next()), { operation: 'created', id: first.key }, 'the change checked during the outage is not skipped');
      assert.deepEqual(pick(await alice.next()), { operation: 'created', id: second.key });
    } finally {
      options.canRead = canRead;
      await alice.close();
    }
  });

  test('events reach exactly the users who can read the file, through grants on ancestor spaces, and stop at revoke', async () => {
    // owner: top > middle > doc, and a private file; alice reads top, bob writes middle, carol has nothing.
    const top = await create(store, { kind: 'Core#Space', info: { name: 'top' } });
    const middle = await create(store, { kind: 'Core#Space', info: { name: 'middle' } }, top.key);
    const doc = await create(store, { kind: 'Core#HttpProject', info: { name: 'doc' } }, middle.key);
    const secret = await create(store, { kind: 'Core#HttpProject', info: { name: 'secret' } });
    await share(store, top.key, [{ op: 'add', type: 'user', id: 'alice', value: 'reader' }]);
    await share(store, middle.key, [{ op: 'add', type: 'user', id: 'bob', value: 'writer' }]);

    const owner = await observer(store, 'owner', '/files');
    const alice = await observer(store, 'alice', '/files', `/files/${doc.key}`);
    const bob = await observer(store, 'bob', '/files');
    const carol = await observer(store, 'carol', '/files');
    const sockets = { owner, alice, bob, carol };
    try {
      const refused = await carol.command(0, `/files/${doc.key}`);
      assert.deepEqual([refused.type, refused.code], ['error', 'file_not_found']);
      assert.equal((await bob.command(0, `/files/${secret.key}`)).code, 'file_not_found');

      await rename(store, doc.key, 'doc 2');
      for (const socket of [owner, alice, bob]) assert.deepEqual(pick(await socket.next()), { operation: 'patch', id: doc.key });
      await rename(store, secret.key, 'secret 2');
      assert.deepEqual(pick(await owner.next()), { operation: 'patch', id: secret.key });

      // A writer's own change reaches the others too.
      await call(store, `/files/${doc.key}`, { method: 'PATCH', token: 'user-bob', body: [{ op: 'add', path: '/info/description', value: 'by bob' }] });
      for (const socket of [owner, alice, bob]) assert.deepEqual(pick(await socket.next()), { operation: 'patch', id: doc.key });

      // Revoke alice's grant on the ancestor while she is subscribed.
      await share(store, top.key, [{ op: 'remove', type: 'user', id: 'alice' }]);
      assert.deepEqual(pick(await alice.next()), { operation: 'access-removed', id: top.key });
      assert.deepEqual(pick(await owner.next()), { operation: 'access-removed', id: top.key });
      await rename(store, doc.key, 'doc 3');
      for (const socket of [owner, bob]) assert.deepEqual(pick(await socket.next()), { operation: 'patch', id: doc.key });

      for (const [user, socket] of Object.entries(sockets)) await nothingBefore(store, socket, user);

      // The feed over HTTP is filtered the same way.
      const feedOf = async (user: string) =>
        ((await call(store, '/changes?since=0&limit=500', { token: tokenOf(store, user) })).items as Frame[]).filter((f) => f.kind !== 'Core#HttpHistory');
      assert.deepEqual((await feedOf('carol')).length, 0);
      assert.ok((await feedOf('alice')).some((f) => f.operation === 'access-removed' && f.id === top.key));
      assert.ok((await feedOf('bob')).every((f) => f.id !== secret.key));
      assert.ok((await feedOf('owner')).some((f) => f.id === secret.key));

      // A replay checks access when it runs: bob, resuming from 0, gets what his feed lists.
      const resumed = await EventSocket.open(store.baseUrl, tokenOf(store, 'bob'));
      try {
        const bobFeed = await feedOf('bob');
        assert.ok(bobFeed.some((f) => f.id === middle.key) && bobFeed.every((f) => f.id !== top.key && f.id !== secret.key));
        assert.equal((await resumed.command(0, '/files', { since: 0 })).type, 'ack');
        assert.deepEqual(await resumed.take(bobFeed.length), bobFeed);
        assert.equal((await resumed.next()).type, 'replayed');
        await nothingBefore(store, resumed, 'bob');
      } finally {
        await resumed.close();
      }
    } finally {
      await Promise.all(Object.values(sockets).map((socket) => socket.close()));
    }
  });
});
