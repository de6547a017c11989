import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { EventSocket } from '../helpers/event-socket.js';
import { startTestStore } from '../helpers/store.js';
import { startTeam, type Team } from '../helpers/team.js';

/** Resolves once the store has forgotten a closed socket (its close handshake ends on the server after the client's). */
async function socketsDrop(team: Team, user: string, count: number): Promise<void> {
  while (team.store.running.services.events.socketsOf(user) > count) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The close of a socket the store refuses: it answers no command. */
async function refused(socket: EventSocket): Promise<{ code: number; reason: string }> {
  const answer = await socket.command(0, '/files').catch(() => 'closed');
  assert.equal(answer, 'closed', 'the socket over the cap answers no command');
  return socket.closed;
}

test('a teammate cannot open event sockets past the per-user cap, nobody past the total; the others still connect', async () => {
  const team = await startTeam({ events: { maxSocketsPerUser: 3, maxSockets: 5 } });
  const sockets: EventSocket[] = [];
  const open = async (token: string) => {
    const socket = await EventSocket.open(team.store.baseUrl, token);
    sockets.push(socket);
    return socket;
  };
  try {
    for (let n = 0; n < 3; n++) assert.equal((await (await open(team.bob.token)).command(0, '/files')).type, 'ack');
    const fourth = await refused(await open(team.bob.token));
    assert.equal(fourth.code, 1013);
    assert.match(fourth.reason, /close one/);

    // Bob's sockets take none of alice's places; the store's total is a separate cap.
    for (let n = 0; n < 2; n++) assert.equal((await (await open(team.alice.token)).command(0, '/files')).type, 'ack');
    const overTotal = await refused(await open(team.admin.token));
    assert.equal(overTotal.code, 1013);
    assert.match(overTotal.reason, /too many event sockets/);

    // A socket bob closes gives its place back.
    await sockets[0].close();
    await socketsDrop(team, team.bob.key, 2);
    assert.equal((await (await open(team.bob.token)).command(0, '/history')).type, 'ack');
  } finally {
    await Promise.all(sockets.map((socket) => socket.close()));
    await team.stop();
  }
});

test('a replay over more changes than the budget answers resync_required without reading the feed; one within it reads only its range', async () => {
  const team = await startTeam({ events: { maxReplayEntries: 20 } });
  try {
    // 30 changes bob cannot see.
    for (let n = 0; n < 30; n++) {
      assert.equal((await team.call(team.alice, '/files', { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: `p${n}` } } })).status, 201);
    }
    const hub = team.store.running.services.events;
    const socket = await EventSocket.open(team.store.baseUrl, team.bob.token);
    const before = hub.replayedEntries;
    for (const path of ['/files', '/history', '/app/x/projects', '/app/x/requests']) {
      const answer = await socket.command(0, path, { since: 0 });
      assert.deepEqual([answer.type, answer.code, answer.path], ['error', 'resync_required', path]);
    }
    assert.equal(hub.replayedEntries, before, 'a refused replay reads nothing');

    const seq = team.store.running.services.store.seq;
    assert.deepEqual(await socket.command(0, '/files', { since: seq - 10 }), { type: 'ack', cmd: 0, path: '/files' });
    assert.deepEqual(await socket.next(), { type: 'replayed', path: '/files', seq });
    // Commands run in order: this answer comes once the replay has ended.
    assert.deepEqual(await socket.command(1, '/history'), { type: 'ack', cmd: 1, path: '/history' });
    assert.equal(hub.replayedEntries - before, 10, 'the replay read the 10 entries after since and no more');
    assert.equal(socket.pending, 0, 'none of them was bob’s to see');
    await socket.close();
  } finally {
    await team.stop();
  }
});

test('a long replay goes at its reader’s pace and lets other requests through; a reader that pauses is not cut off', async () => {
  const team = await startTeam();
  try {
    // 96 MiB of bob's own changes: more than loopback TCP buffers hold (32 MiB receive, 4 MiB
    // send at most here), so the replay cannot end while bob does not read.
    const { store, events: hub } = team.store.running.services;
    const blob = 'x'.repeat(1024 * 1024);
    const count = 96;
    for (let n = 0; n < count; n++) {
      await store.mutate((m) =>
        m.change({ operation: 'created', kind: 'Test#Large', id: `large-${n}`, data: { blob }, paths: ['/history'], visibility: { user: team.bob.key } }),
      );
    }
    const socket = await EventSocket.open(team.store.baseUrl, team.bob.token);
    const before = hub.replayedEntries;
    assert.equal((await socket.command(0, '/history', { since: store.seq - count })).type, 'ack');
    socket.socket.pause();

    // While the replay waits for bob, the store serves him and the others.
    assert.equal((await team.call(team.bob, '/files')).status, 200);
    assert.equal((await team.call(team.alice, '/history?type=user')).status, 200);
    assert.ok(hub.replayedEntries - before < count, `the replay read ${hub.replayedEntries - before} of ${count} entries ahead of its reader`);

    socket.socket.resume();
    const frames = await socket.take(count);
    assert.deepEqual(frames.map((frame) => frame.id), Array.from({ length: count }, (_, n) => `large-${n}`));
    assert.deepEqual(await socket.next(), { type: 'replayed', path: '/history', seq: store.seq });
    assert.deepEqual(await socket.command(1, '/history'), { type: 'ack', cmd: 1, path: '/history' });
    assert.equal(hub.replayedEntries - before, count);
    await socket.close();
  } finally {
    await team.stop();
  }
});

test('a GET /changes page stops at its byte cap however large the changes are, and its cursor leads to the rest', async () => {
  const team = await startTeam();
  try {
    // 8 files of about 800 KB of metadata: one page of them would be 6.4 MB.
    const notes = 'n'.repeat(800 * 1024);
    const keys: string[] = [];
    for (let n = 0; n < 8; n++) {
      const created = await team.call(team.alice, '/files', { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: `big${n}`, notes } } });
      assert.equal(created.status, 201);
      keys.push(created.body.key);
    }
    const pages: { bytes: number; ids: string[] }[] = [];
    let cursor: string | undefined;
    do {
      const response = await team.store.api(`/changes?path=/files&limit=500${cursor ? `&cursor=${cursor}` : ''}`, { token: team.alice.token });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      const page = JSON.parse(text) as { items: { id: string }[]; cursor?: string };
      pages.push({ bytes: Buffer.byteLength(text), ids: page.items.map((item) => item.id) });
      cursor = page.cursor;
    } while (cursor);
    assert.ok(pages.length > 1, 'the changes came in more than one page');
    assert.ok(pages.every((page) => page.bytes < 5 * 1024 * 1024), `page sizes: ${pages.map((page) => page.bytes).join(', ')}`);
    assert.deepEqual(pages.flatMap((page) => page.ids), keys);
  } finally {
    await team.stop();
  }
});

test('when more changes wait for delivery than the hub holds, their observers get 1013 and resume with since; other sockets stay open', async () => {
  const store = await startTestStore({ events: { maxQueuedChanges: 5 } });
  try {
    const { store: data } = store.running.services;
    const historyObserver = await EventSocket.open(store.baseUrl, store.token);
    const filesObserver = await EventSocket.open(store.baseUrl, store.token);
    assert.equal((await historyObserver.command(0, '/history')).type, 'ack');
    assert.equal((await filesObserver.command(0, '/files')).type, 'ack');
    const since = data.seq;

    // One commit of 8 changes queues 8 at once: more than the hub holds.
    await data.mutate((m) => {
      for (let n = 0; n < 8; n++) m.change({ operation: 'created', kind: 'Test#Burst', id: `burst-${n}`, paths: ['/history'], visibility: { user: LOCAL_OWNER } });
    });
    const closed = await historyObserver.closed;
    assert.equal(closed.code, 1013);
    assert.match(closed.reason, /since/);

    // The socket that missed nothing stays open; the closed one resumes from the feed.
    assert.deepEqual(await filesObserver.command(0, '/history'), { type: 'ack', cmd: 0, path: '/history' });
    const resumed = await EventSocket.open(store.baseUrl, store.token);
    assert.equal((await resumed.command(0, '/history', { since })).type, 'ack');
    assert.deepEqual((await resumed.take(8)).map((frame) => frame.id), Array.from({ length: 8 }, (_, n) => `burst-${n}`));
    assert.deepEqual(await resumed.next(), { type: 'replayed', path: '/history', seq: data.seq });

    // Delivery goes on live for both.
    await data.mutate((m) => m.change({ operation: 'created', kind: 'Test#Burst', id: 'after', paths: ['/history'], visibility: { user: LOCAL_OWNER } }));
    assert.equal((await resumed.next()).id, 'after');
    assert.equal((await filesObserver.next()).id, 'after');
    await Promise.all([filesObserver.close(), resumed.close()]);
  } finally {
    await store.stop();
  }
});
