import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { SignedInUser } from '../helpers/accounts.js';
import { EventSocket, type Frame } from '../helpers/event-socket.js';
import { startTeam, type Team } from '../helpers/team.js';

/**
 * A hostile teammate against the trash: taking over the key of a file deleted for good (or of
 * someone's history) to read what was attached to it, and acting on trash entries after losing
 * the owner role.
 */

const SECRET = 'Authorization: Bearer alice-secret-token';

const historyEntry = (attached: { space?: string; project?: string; request?: string }) => ({
  app: 'client',
  log: { request: { url: 'https://api.example.test/private', method: 'GET', headers: SECRET, startTime: 1 } },
  ...attached,
});

async function createFile(team: Team, user: SignedInUser, body: object, parent?: string): Promise<{ status: number; body: any }> {
  return team.call(user, `/files${parent ? `?parent=${parent}` : ''}`, { method: 'POST', body });
}

async function created(team: Team, user: SignedInUser, body: object, parent?: string): Promise<string> {
  const answer = await createFile(team, user, body, parent);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body.key;
}

async function addHistory(team: Team, user: SignedInUser, attached: Parameters<typeof historyEntry>[0]): Promise<string> {
  const answer = await team.call(user, '/history', { method: 'POST', body: historyEntry(attached) });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body.key;
}

/** Every page of a list, following the cursor. */
async function readAll(team: Team, user: SignedInUser, path: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = await team.call(user, `${path}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    items.push(...page.body.items);
    cursor = page.body.cursor;
  } while (cursor);
  return items;
}

/**
 * What `since: 0` replays to `user` on `path`: every frame up to the live event of a marker the
 * user writes after the replay started (held changes follow the replay, so it comes last).
 */
async function replayed(team: Team, user: SignedInUser, path: '/files' | '/history'): Promise<Frame[]> {
  const socket = await EventSocket.open(team.store.baseUrl, user.token);
  try {
    assert.equal((await socket.command(0, path, { since: 0 })).type, 'ack');
    const marker = path === '/files' ? await created(team, user, { kind: 'Core#Space', info: { name: 'marker' } }) : await addHistory(team, user, {});
    const frames: Frame[] = [];
    for (let frame = await socket.next(); frame.id !== marker; frame = await socket.next()) if (frame.type === 'event') frames.push(frame);
    return frames;
  } finally {
    await socket.close();
  }
}

/** Asserts that nothing `bob` can read through any list, feed or replay mentions these keys or the secret. */
async function assertNothingLeaks(team: Team, reader: SignedInUser, keys: string[], lists: string[]): Promise<void> {
  for (const list of lists) assert.deepEqual(await readAll(team, reader, list), [], `${list} shows nothing of alice's`);
  const feed = await readAll(team, reader, '/changes?since=0');
  const replays = [...(await replayed(team, reader, '/files')), ...(await replayed(team, reader, '/history'))];
  for (const frame of [...feed, ...replays]) {
    assert.ok(!keys.includes(frame.id as string), `no event about ${String(frame.id)}`);
    assert.ok(!JSON.stringify(frame).includes(SECRET), 'no event carries the secret');
  }
}

test('a key purged with DELETE /trash/{key} is never given to another file: no history, changes or events of the past owner leak', async () => {
  const team = await startTeam();
  const { alice, bob } = team;
  try {
    const project = randomUUID();
    await created(team, alice, { key: project, kind: 'Core#HttpProject', info: { name: 'private' } });
    const entry = await addHistory(team, alice, { project, request: 'request-1' });
    assert.equal((await team.call(alice, `/files/${project}`, { method: 'DELETE' })).status, 204);
    assert.equal((await team.call(alice, `/trash/${project}`, { method: 'DELETE' })).status, 204);

    // Bob learned the key (a client id) and claims it for a file of his own.
    const claim = await createFile(team, bob, { key: project, kind: 'Core#HttpProject', info: { name: 'mine now' } });
    assert.equal(claim.status, 409, JSON.stringify(claim.body));
    assert.equal(claim.body.code, 'key_conflict');
    assert.equal((await createFile(team, alice, { key: project, kind: 'Core#HttpProject', info: { name: 'again' } })).status, 409, 'nor does its past owner reuse it');

    await assertNothingLeaks(team, bob, [project, entry], [`/history?type=project&id=${project}`, '/history?type=request&id=request-1']);
    assert.deepEqual((await readAll(team, alice, `/history?type=project&id=${project}`)).map((item) => item.key), [entry], 'alice keeps her own history');
    assert.equal((await created(team, bob, { key: randomUUID(), kind: 'Core#HttpProject', info: { name: 'fresh' } })).length, 36, 'an unused client key is accepted');
  } finally {
    await team.stop();
  }
});

test('DELETE /trash retires every key of the purged subtrees, spaces and the files inside them', async () => {
  const team = await startTeam();
  const { alice, bob } = team;
  try {
    const space = randomUUID();
    const inner = randomUUID();
    await created(team, alice, { key: space, kind: 'Core#Space', info: { name: 'private space' } });
    await created(team, alice, { key: inner, kind: 'Core#HttpProject', info: { name: 'inside' } }, space);
    const entries = [await addHistory(team, alice, { space, request: 'request-2' }), await addHistory(team, alice, { space, project: inner })];
    assert.equal((await team.call(alice, `/files/${space}`, { method: 'DELETE' })).status, 204);
    assert.equal((await team.call(alice, '/trash', { method: 'DELETE' })).status, 204);

    for (const key of [space, inner]) {
      const claim = await createFile(team, bob, { key, kind: 'Core#Space', info: { name: 'mine now' } });
      assert.equal(claim.status, 409, `${key}: ${JSON.stringify(claim.body)}`);
      assert.equal(claim.body.code, 'key_conflict');
    }
    await assertNothingLeaks(team, bob, [space, inner, ...entries], [
      `/history?type=space&id=${space}`,
      `/history?type=project&id=${inner}`,
      '/history?type=request&id=request-2',
    ]);
  } finally {
    await team.stop();
  }
});

test('a key that history is attached to cannot become a file: its creator would read that history', async () => {
  const team = await startTeam();
  const { alice, bob } = team;
  try {
    // Alice files history under her app's own project and space ids (say, a public Postman collection's id): no file has them.
    const project = randomUUID();
    const space = randomUUID();
    const entries = [await addHistory(team, alice, { project }), await addHistory(team, alice, { space })];
    for (const key of [project, space]) {
      const claim = await createFile(team, bob, { key, kind: 'Core#Space', info: { name: 'mine now' } });
      assert.equal(claim.status, 409, `${key}: ${JSON.stringify(claim.body)}`);
      assert.equal(claim.body.code, 'key_conflict');
    }
    await assertNothingLeaks(team, bob, [project, space, ...entries], [`/history?type=project&id=${project}`, `/history?type=space&id=${space}`]);
  } finally {
    await team.stop();
  }
});

test('trash routes check the current role: a revoked or demoted owner neither lists, restores nor purges what they trashed', async () => {
  const team = await startTeam();
  const { alice, bob } = team;
  const grant = (ops: object[]) => team.call(alice, `/files/${space}/users`, { method: 'PATCH', body: ops });
  let space = '';
  try {
    space = await created(team, alice, { kind: 'Core#Space', info: { name: 'shared' } });
    const file = await created(team, alice, { kind: 'Core#HttpProject', info: { name: 'work' } }, space);
    const own = await created(team, bob, { kind: 'Core#HttpProject', info: { name: 'bob alone' } });
    assert.equal((await grant([{ op: 'add', type: 'user', id: bob.key, value: 'owner' }])).status, 200);
    assert.equal((await team.call(bob, `/files/${file}`, { method: 'DELETE' })).status, 204);
    assert.equal((await team.call(bob, `/files/${own}`, { method: 'DELETE' })).status, 204);
    const trashOf = async (user: SignedInUser) => (await readAll(team, user, '/trash?limit=1')).map((item) => item.key).sort();
    assert.deepEqual(await trashOf(bob), [file, own].sort());

    // Demoted to writer: the entry is out of reach.
    assert.equal((await grant([{ op: 'add', type: 'user', id: bob.key, value: 'writer' }])).status, 200);
    assert.deepEqual(await trashOf(bob), [own]);
    assert.equal((await team.call(bob, `/trash/${file}/restore`, { method: 'PUT' })).status, 403);
    assert.equal((await team.call(bob, `/trash/${file}`, { method: 'DELETE' })).status, 403);

    // Revoked: the same, and emptying the trash purges only what bob still owns.
    assert.equal((await grant([{ op: 'remove', type: 'user', id: bob.key }])).status, 200);
    assert.deepEqual(await trashOf(bob), [own]);
    assert.equal((await team.call(bob, `/trash/${file}/restore`, { method: 'PUT' })).status, 404);
    assert.equal((await team.call(bob, `/trash/${file}`, { method: 'DELETE' })).status, 404);
    assert.equal((await team.call(bob, '/trash', { method: 'DELETE' })).status, 204);
    assert.deepEqual(await trashOf(bob), []);

    const restored = await team.call(alice, `/trash/${file}/restore`, { method: 'PUT' });
    assert.equal(restored.status, 200, 'the space owner still has the file: bob could not purge it');
    assert.equal((await team.call(alice, `/files/${file}`)).status, 200);
    assert.equal((await team.call(bob, `/trash/${own}/restore`, { method: 'PUT' })).status, 404, 'bob’s own file was purged');
  } finally {
    await team.stop();
  }
});
