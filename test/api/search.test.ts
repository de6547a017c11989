import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compactChanges } from '../../backend/src/store/change-feed.js';
import { createHistory, historyAccessOf, indexHistorySearch, listHistory, pruneHistory, type HistoryInput } from '../../backend/src/store/history.js';
import { placementIn, rootPlacement, type Placement } from '../../backend/src/store/file-search.js';
import { below } from '../../backend/src/store/file-records.js';
import { stageNewFile } from '../../backend/src/store/files.js';
import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { migrations } from '../../backend/src/store/migrations.js';
import { termsOf } from '../../backend/src/store/search-terms.js';
import type { Storage } from '../../backend/src/store/storage.js';
import { verifyStore } from '../../backend/src/store/verify.js';
import type { Store } from '../../backend/src/store/store.js';
import { EventSocket } from '../helpers/event-socket.js';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam, type Team } from '../helpers/team.js';

/**
 * Search and filtered lists answer from an index: the first page holds the first match however
 * many records before it do not match, and a caller never finds what the caller cannot read.
 * Bulk data is seeded through the store layer; every query goes over HTTP.
 */

type Page = { items: { key: string; id?: string; info?: { name: string } }[]; cursor?: string };

async function page(store: TestStore, path: string, token?: string): Promise<Page> {
  const response = await store.api(path, token === undefined ? {} : { token });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return JSON.parse(text) as Page;
}

/** Files of `owner` at their root (or in `placement`'s last space), in batches of 1,000 per write. */
async function seedFiles(store: Store, owner: string, names: string[], placement: Placement = rootPlacement, kind = 'Core#HttpProject'): Promise<string[]> {
  const keys: string[] = [];
  for (let from = 0; from < names.length; from += 1000) {
    await store.mutate((m) => {
      for (const name of names.slice(from, from + 1000)) keys.push(stageNewFile(m, { input: { kind, info: { name } }, owner, placement }).key);
    });
  }
  return keys;
}

/** Inside a space of `owner` at their root. */
const inSpace = (space: string, owner: string): Placement => placementIn({ key: space, owner }, rootPlacement);

const historyInput = (url: string, extra: Partial<HistoryInput['log']['request']> = {}, response?: HistoryInput['log']['response']): HistoryInput => ({
  app: 'search-test',
  log: { request: { url, method: 'GET', headers: 'accept: */*', startTime: 1, ...extra }, ...(response && { response }) },
});

async function seedHistory(store: Store, user: string, inputs: HistoryInput[]): Promise<void> {
  for (let from = 0; from < inputs.length; from += 1000) await createHistory(store, historyAccessOf(store.storage, user), inputs.slice(from, from + 1000));
}

/** Every key of `user`'s history search for `query`, newest first, through the store's pages. */
async function listHistoryKeys(store: Store, user: string, query: string): Promise<string[]> {
  const keys: string[] = [];
  for (let after: string | undefined; ; ) {
    const page = await listHistory(store.storage, historyAccessOf(store.storage, user), { type: 'user', query }, { limit: 100, after });
    keys.push(...page.items.map((entry) => entry.key));
    if (page.last === undefined) return keys;
    after = page.last;
  }
}

/** Keys of a section (with a key part), to check that removed records leave no index entry. */
async function keysWith(storage: Storage, section: string, part: string): Promise<string[]> {
  const found: string[] = [];
  for await (const key of storage.keys(section)) if (key.includes(part)) found.push(key);
  return found;
}

describe('a filtered first page holds the first match after 5,000 records that do not match', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore();
  });
  after(() => store.stop());

  test('GET /files?query=, at the root and in a space', async () => {
    const { store: inner } = store.running.services;
    const owner = LOCAL_OWNER;
    await seedFiles(inner, owner, Array.from({ length: 5000 }, (_, n) => `unrelated ${n}`));
    const [match] = await seedFiles(inner, owner, ['Zebra crossing']);
    const found = await page(store, '/files?query=zebra&limit=5');
    assert.deepEqual([found.items.map((item) => item.key), found.cursor], [[match], undefined]);

    const [spaceKey] = await seedFiles(inner, owner, ['a space']);
    await seedFiles(inner, owner, Array.from({ length: 5000 }, (_, n) => `other ${n}`), inSpace(spaceKey, owner));
    const [deep] = await seedFiles(inner, owner, ['Yak shaving'], inSpace(spaceKey, owner));
    assert.deepEqual((await page(store, `/files?parent=${spaceKey}&query=yak`)).items.map((item) => item.key), [deep]);
    // Word prefixes match; a word must start a word of the name.
    assert.deepEqual((await page(store, '/files?query=shav%20YAK')).items.map((item) => item.key), [deep]);
    assert.deepEqual((await page(store, '/files?query=having')).items, []);
    assert.deepEqual((await page(store, '/files?query=unrelated%204999&limit=3')).items.map((item) => item.info?.name), ['unrelated 4999']);
  });

  test('GET /history?query=, by URL, header and text body, in every scope', async () => {
    const { store: inner } = store.running.services;
    const owner = LOCAL_OWNER;
    await seedHistory(inner, owner, Array.from({ length: 5000 }, (_, n) => historyInput(`https://noise.example.test/${n}`)));
    const created = await store.api('/history', {
      method: 'POST',
      body: {
        ...historyInput('https://api.needle.test/orders?id=7', { method: 'PATCH', headers: 'x-trace: haystack-42\ncontent-type: application/json', payload: '{"comment":"fragile parcel"}' }),
        response: { status: 200, statusText: 'OK', headers: 'content-type: application/octet-stream', payload: 'binaryword', timings: {} },
        space: 'sp1',
        project: 'pr1',
        request: 'rq1',
      },
    });
    assert.equal(created.status, 201);
    const { key } = (await created.json()) as { key: string };
    const hits = async (query: string) => (await page(store, `/history?${query}&limit=3`)).items.map((item) => item.key);
    for (const words of ['needle', 'api.needle.test/orders', 'patch', 'haystack', 'fragile%20parcel', 'x-trace']) {
      assert.deepEqual(await hits(`type=user&query=${words}`), [key], words);
    }
    assert.deepEqual(await hits('type=user&query=binaryword'), [], 'a binary body is not searched');
    assert.deepEqual(await hits('type=user&query=needle%20nowhere'), []);
    // A common word with a rare one: the rare one's entries decide what the page costs.
    const rare = (await page(store, '/history?type=user&limit=3&query=example%20NOISE%2017')).items as unknown as { log: { request: { url: string } } }[];
    assert.deepEqual(rare.map((item) => item.log.request.url), ['https://noise.example.test/17']);
    for (const scope of ['type=app&id=search-test', 'type=space&id=sp1', 'type=project&id=pr1', 'type=request&id=rq1']) {
      assert.deepEqual(await hits(`${scope}&query=fragile`), [key], scope);
    }
    assert.deepEqual(await hits('type=app&id=other-app&query=fragile'), [], 'another app of the same user');
    assert.deepEqual(await hits(`type=user&query=noise&since=${Date.now() + 60_000}`), []);
  });

  test('GET /changes?path= after 5,000 changes on other paths is one request', async () => {
    const { store: inner } = store.running.services;
    const since = inner.seq;
    await seedHistory(inner, LOCAL_OWNER, Array.from({ length: 5000 }, (_, n) => historyInput(`https://feed.example.test/${n}`)));
    const [file] = await seedFiles(inner, LOCAL_OWNER, ['after the noise']);
    const feed = await page(store, `/changes?since=${since}&path=/files&limit=10`);
    assert.deepEqual([feed.items.map((item) => item.id), feed.cursor], [[file], undefined]);
    const onKey = await page(store, `/changes?since=0&path=/files/${file}`);
    assert.deepEqual(onKey.items.map((item) => item.id), [file]);
  });
});

describe('workspace search across users', () => {
  let team: Team;
  before(async () => {
    team = await startTeam();
  });
  after(() => team.stop());

  const create = async (user: Team['alice'], name: string, options: { kind?: string; parent?: string; description?: string } = {}) => {
    const { status, body } = await team.call(user, `/files${options.parent ? `?parent=${options.parent}` : ''}`, {
      method: 'POST',
      body: { kind: options.kind ?? 'Core#HttpProject', info: { name, ...(options.description && { description: options.description }) } },
    });
    assert.equal(status, 201);
    return body.key as string;
  };
  const search = async (user: Team['alice'], query: string) => {
    const { status, body } = await team.call(user, `/files?query=${encodeURIComponent(query)}`);
    assert.equal(status, 200);
    return (body.items as { key: string }[]).map((item) => item.key).sort();
  };

  test('finds files in spaces and shared files, never files the caller cannot read', async () => {
    const { alice, bob } = team;
    const space = await create(alice, 'Team space', { kind: 'Core#Space' });
    const inner = await create(alice, 'Inner space', { kind: 'Core#Space', parent: space });
    const deep = await create(alice, 'Quarterly report', { parent: inner });
    const described = await create(alice, 'Numbers', { parent: space, description: 'the quarterly figures' });
    const secret = await create(alice, 'Quarterly secret');
    const bobs = await create(bob, 'Quarterly plan');
    assert.deepEqual(await search(alice, 'quarterly'), [deep, described, secret].sort());
    assert.deepEqual(await search(bob, 'quarterly'), [bobs]);

    // Sharing the space shows its subtree to bob; bob's file in it shows to alice, its owner's owner.
    const grant = await team.call(alice, `/files/${space}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: 'writer' }] });
    assert.equal(grant.status, 200);
    const bobsInSpace = await create(bob, 'Quarterly notes', { parent: inner });
    assert.deepEqual(await search(bob, 'quarterly'), [bobs, deep, described, bobsInSpace].sort());
    assert.deepEqual(await search(alice, 'quarterly'), [deep, described, secret, bobsInSpace].sort());
    // Page by page through the merged scopes: each file once, in key order.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const { body } = await team.call(bob, `/files?query=quarterly&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      paged.push(...(body.items as { key: string }[]).map((item) => item.key));
      cursor = body.cursor;
    } while (cursor);
    assert.deepEqual(paged, [bobs, deep, described, bobsInSpace].sort());

    // A rename moves the file in the index; trash takes it out, restore puts it back.
    assert.equal((await team.call(alice, `/files/${deep}`, { method: 'PATCH', body: { patch: [{ op: 'replace', path: '/info/name', value: 'Annual report' }] } })).status, 200);
    assert.deepEqual(await search(bob, 'annual'), [deep]);
    assert.ok(!(await search(bob, 'quarterly')).includes(deep));
    assert.equal((await team.call(alice, `/files/${inner}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await search(bob, 'annual'), []);
    assert.deepEqual(await search(alice, 'annual'), []);
    const restored = await team.call(alice, `/trash/${inner}/restore`, { method: 'PUT' });
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.deepEqual(await search(bob, 'annual'), [deep]);

    // Revoking the grant takes alice's files out of bob's search, and his own in her space stay his.
    const revoke = await team.call(alice, `/files/${space}/users`, { method: 'PATCH', body: [{ op: 'remove', type: 'user', id: bob.key }] });
    assert.equal(revoke.status, 200);
    assert.deepEqual(await search(bob, 'quarterly'), [bobs, bobsInSpace].sort());
    assert.deepEqual(await search(bob, 'annual'), []);
  });

  test('a project shared on its own is found by its record, and holds no search scope of its own', async () => {
    const { alice, bob } = team;
    const project = await create(alice, 'Compass ledger', { description: 'the voyage accounts' });
    await create(alice, 'Compass secret');
    const space = await create(alice, 'Compass space', { kind: 'Core#Space' });
    const words = (scope: string) => team.store.running.services.store.storage.keyList('file-words', below(scope));
    assert.deepEqual(await words(project), [], 'a project has no scope of its own');
    assert.ok((await words(space)).length > 0, 'a space has its own scope, which its subtree shares');

    // The attacker's steps: bob searches for what alice has not shared with him.
    assert.deepEqual(await search(bob, 'compass'), []);
    const share = await team.call(alice, `/files/${project}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: 'reader' }] });
    assert.equal(share.status, 200);
    assert.deepEqual(await search(bob, 'compass'), [project]);
    assert.deepEqual(await search(bob, 'voyage acc'), [project]);
    assert.deepEqual(await search(bob, 'compass secret'), [], 'what is not shared stays out');

    // Renamed, it is found by its new name only; trashed, not at all; restored, again; revoked, never.
    assert.equal((await team.call(alice, `/files/${project}`, { method: 'PATCH', body: [{ op: 'replace', path: '/info/name', value: 'Sextant ledger' }] })).status, 200);
    assert.deepEqual(await search(bob, 'compass'), []);
    assert.deepEqual(await search(bob, 'sextant'), [project]);
    assert.equal((await team.call(alice, `/files/${project}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await search(bob, 'sextant'), []);
    assert.equal((await team.call(alice, `/trash/${project}/restore`, { method: 'PUT' })).status, 200);
    assert.deepEqual(await search(bob, 'sextant'), [project]);
    const revoke = await team.call(alice, `/files/${project}/users`, { method: 'PATCH', body: [{ op: 'remove', type: 'user', id: bob.key }] });
    assert.equal(revoke.status, 200);
    assert.deepEqual(await search(bob, 'sextant'), []);
    assert.deepEqual(await search(alice, 'ledger'), [project]);
    assert.deepEqual((await verifyStore(team.store.running.services.store.storage)).problems, []);
  });

  test("an owner of a space deep in another user's tree finds what others create in it, and nothing above it", async () => {
    const { alice, bob, admin: carol } = team;
    const grant = (user: Team['alice'], space: string, to: Team['alice']) =>
      team.call(user, `/files/${space}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: to.key, value: 'writer' }] });
    const top = await create(alice, 'Harbour top', { kind: 'Core#Space' });
    assert.equal((await grant(alice, top, bob)).status, 200);
    const bobsSpace = await create(bob, 'Harbour middle', { kind: 'Core#Space', parent: top });
    assert.equal((await grant(bob, bobsSpace, carol)).status, 200);
    const carols = await create(carol, 'Lantern memo', { parent: bobsSpace });
    const alicesAbove = await create(alice, 'Lantern secret', { parent: top });
    // Bob loses the grant above his space: he still owns his space and what is in it (access.ts).
    assert.equal((await team.call(alice, `/files/${top}/users`, { method: 'PATCH', body: [{ op: 'remove', type: 'user', id: bob.key }] })).status, 200);

    // The attacker's steps: bob searches, lists and reads what he no longer may see.
    assert.deepEqual(await search(bob, 'lantern'), [carols]);
    assert.deepEqual(await search(bob, 'harbour'), [bobsSpace]);
    assert.equal((await team.call(bob, `/files/${alicesAbove}`)).status, 404);
    assert.equal((await team.call(bob, `/files/${carols}`)).status, 200);
    assert.deepEqual(await search(alice, 'lantern'), [carols, alicesAbove].sort());
    assert.deepEqual(await search(carol, 'lantern'), [carols]);
    assert.deepEqual(await search(carol, 'harbour'), [bobsSpace]);
    const { problems } = await verifyStore(team.store.running.services.store.storage);
    assert.deepEqual(problems, []);
  });
});

describe('index entries go with their records', () => {
  test('history delete and retention remove the search entries; compaction removes the path index', async () => {
    const store = await startTestStore();
    try {
      const { store: inner } = store.running.services;
      const body = historyInput('https://removable.example.test/a', { headers: 'x-tag: vanishing' });
      const created = await store.api('/history', { method: 'POST', body: { ...body, space: 'sp9' } });
      const { key } = (await created.json()) as { key: string };
      // A lone entry is a run of its own, keyed by the entry's key.
      const sections = ['history-postings-by-user', 'history-postings-by-space', 'history-runs'];
      for (const section of sections) assert.ok((await keysWith(inner.storage, section, key)).length > 0, section);
      assert.equal((await store.api(`/history/${key}`, { method: 'DELETE' })).status, 204);
      for (const section of sections) assert.deepEqual(await keysWith(inner.storage, section, key), [], section);
      assert.deepEqual((await page(store, '/history?type=user&query=vanishing')).items, []);

      await seedHistory(inner, LOCAL_OWNER, [1, 2, 3].map((n) => ({ ...historyInput(`https://pruned.example.test/${n}`), created: n })));
      assert.equal(await pruneHistory(inner, { maxEntriesPerUser: 0, maxAgeMs: 1000 }, 10_000), 3);
      assert.deepEqual(await keysWith(inner.storage, 'history-postings-by-user', 'pruned'), []);
      assert.deepEqual(await keysWith(inner.storage, 'history-runs', ''), []);

      const before = (await keysWith(inner.storage, 'changes-by-path', '/history')).length;
      assert.ok(before >= 5);
      await compactChanges(inner, { maxEntries: 1, maxAgeMs: 60_000 });
      assert.deepEqual(await keysWith(inner.storage, 'changes-by-path', ''), [...(await keysWith(inner.storage, 'changes-by-path', String(inner.seq).padStart(16, '0')))]);
    } finally {
      await store.stop();
    }
  });

  test("another user's writes never make a user's run of history grow, whatever times they claim", async () => {
    const store = await startTestStore();
    try {
      const { store: inner } = store.running.services;
      const runs = async () => {
        const held: [string, string[]][] = [];
        for await (const run of inner.storage.entries<string[]>('history-runs')) held.push(run);
        return held;
      };
      // Alice logs three requests made over 20 ms in one batch: one run spanning those times.
      await seedHistory(inner, 'alice', [0, 10, 20].map((ms) => ({ ...historyInput(`https://alice.example.test/${ms}`, { headers: 'x-team: harbour' }), created: 5_000 + ms })));
      const [[aliceRun, aliceKeys]] = await runs();
      assert.equal(aliceKeys.length, 3);

      // The attacker's steps: mallory writes batches claiming times inside alice's run, so that
      // every search of alice's would read a run swollen with mallory's keys.
      for (let batch = 0; batch < 5; batch++) {
        await seedHistory(inner, 'mallory', Array.from({ length: 100 }, (_, i) => ({ ...historyInput(`https://mallory.example.test/${batch}/${i}`, { headers: 'x-team: harbour' }), created: 5_001 + ((batch * 100 + i) % 19) })));
      }
      assert.deepEqual(await inner.storage.get('history-runs', aliceRun), aliceKeys, "alice's run is as she wrote it");
      const search = (user: string) => listHistoryKeys(inner, user, 'harbour');
      assert.deepEqual(await search('alice'), [...aliceKeys].sort().reverse());
      assert.equal((await search('mallory')).length, 500);
      assert.deepEqual((await verifyStore(inner.storage)).problems, []);
    } finally {
      await store.stop();
    }
  });

  test('a history event carries the entry, as a file event carries the record', async () => {
    const store = await startTestStore();
    try {
      const socket = await EventSocket.open(store.baseUrl, store.token);
      assert.equal((await socket.command(0, '/history')).type, 'ack');
      const created = await store.api('/history', { method: 'POST', body: historyInput('https://evented.example.test') });
      const entry = await created.json();
      const frame = await socket.next();
      assert.deepEqual([frame.operation, frame.data], ['created', entry]);
      await socket.close();
    } finally {
      await store.stop();
    }
  });
});

test("a store written by schema 2 gets the path, history and file indexes at open, files under their owners' roots", async () => {
  const first = await startTestStore();
  const { store: inner } = first.running.services;
  await seedHistory(inner, LOCAL_OWNER, [historyInput('https://migrated.example.test/', { headers: 'x-old: legacy' })]);
  const [file] = await seedFiles(inner, LOCAL_OWNER, ['Migrated notebook']);
  const [space] = await seedFiles(inner, LOCAL_OWNER, ['old space'], rootPlacement, 'Core#Space');
  const [nested] = await seedFiles(inner, LOCAL_OWNER, ['Nested heirloom'], inSpace(space, LOCAL_OWNER));
  // Another user's file in the owner's space: the owner finds it through the root alone (schema 6).
  const [guest] = await seedFiles(inner, 'guest', ['Guest heirloom'], inSpace(space, LOCAL_OWNER));
  // Back to the layout of schema 2: none of the three indexes, with the key per term and entry that
  // schemas 4 to 6 wrote for history search left over, which migration 7 removes.
  const drop = [];
  for (const section of ['changes-by-path', 'history-postings-by-user', 'history-runs', 'file-words']) {
    for await (const key of inner.storage.keys(section)) drop.push({ type: 'del' as const, section, key });
  }
  assert.ok(drop.length > 10);
  const oldWords = ['legacy', 'migrated'].map((term) => ({ type: 'put' as const, section: 'history-words-by-user', key: `${LOCAL_OWNER}\0${term}\0${term}`, value: 0 }));
  await inner.storage.write([...drop, ...oldWords, { type: 'put', section: 'meta', key: 'schemaVersion', value: 2 }]);
  await first.stop({ keepData: true });

  const reopened = await startTestStore({ dataDir: first.dataDir, token: first.token });
  try {
    assert.equal(await reopened.running.services.store.storage.get('meta', 'schemaVersion'), migrations.at(-1)?.version);
    assert.equal((await page(reopened, '/history?type=user&query=legacy')).items.length, 1);
    assert.deepEqual((await page(reopened, '/files?query=notebook')).items.map((item) => item.key), [file]);
    assert.deepEqual((await page(reopened, '/files?query=heirloom')).items.map((item) => item.key), [nested, guest].sort());
    assert.deepEqual((await verifyStore(reopened.running.services.store.storage)).problems, []);
    // Migration 7 run again, as after a start cut short before it recorded its version: nothing changes.
    const migrated = reopened.running.services.store.storage;
    const before = await verifyStore(migrated);
    await indexHistorySearch(migrated);
    const again = await verifyStore(migrated);
    assert.deepEqual([again.problems, again.digest], [[], before.digest]);
    assert.deepEqual((await page(reopened, `/changes?since=0&path=/files/${file}`)).items.map((item) => item.id), [file]);
  } finally {
    await reopened.stop();
  }
});

test('a store written by schema 7 loses the search scope of each file that is not a space, and finds the same files', async () => {
  const first = await startTestStore();
  const { store: inner } = first.running.services;
  const [space] = await seedFiles(inner, LOCAL_OWNER, ['Atlas space'], rootPlacement, 'Core#Space');
  const [project, nested] = [...(await seedFiles(inner, LOCAL_OWNER, ['Atlas project'])), ...(await seedFiles(inner, LOCAL_OWNER, ['Atlas nested'], inSpace(space, LOCAL_OWNER)))];
  // Schema 7 also indexed every file under its own key, with its own terms.
  const ownScope = (key: string, name: string) => [...termsOf([name, ''])].map((term) => ({ type: 'put' as const, section: 'file-words', key: `${key}\0${term}\0${key}`, value: 0 }));
  await inner.storage.write([...ownScope(project, 'Atlas project'), ...ownScope(nested, 'Atlas nested'), { type: 'put', section: 'meta', key: 'schemaVersion', value: 7 }]);
  assert.notDeepEqual((await verifyStore(inner.storage)).problems, [], 'the old entries are stale in the new layout');
  const spaceScope = await inner.storage.keyList('file-words', below(space));
  await first.stop({ keepData: true });

  const reopened = await startTestStore({ dataDir: first.dataDir, token: first.token });
  try {
    const storage = reopened.running.services.store.storage;
    assert.equal(await storage.get('meta', 'schemaVersion'), migrations.at(-1)?.version);
    for (const key of [project, nested]) assert.deepEqual(await storage.keyList('file-words', below(key)), []);
    assert.deepEqual(await storage.keyList('file-words', below(space)), spaceScope, "a space's own scope stays");
    assert.deepEqual((await page(reopened, '/files?query=atlas')).items.map((item) => item.key), [space, project, nested].sort());
    assert.deepEqual((await verifyStore(storage)).problems, []);
  } finally {
    await reopened.stop();
  }
});
