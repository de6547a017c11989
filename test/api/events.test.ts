import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EventSocket } from '../helpers/event-socket.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

let store: TestStore;
before(async () => {
  store = await startTestStore();
});
after(() => store.stop());

const entry = (url: string) => ({ app: 'events-test', log: { request: { url, method: 'GET', headers: '', startTime: 1 } } });

async function addHistory(url: string): Promise<string> {
  const response = await store.api('/history', { method: 'POST', body: entry(url) });
  assert.equal(response.status, 201);
  return ((await response.json()) as { key: string }).key;
}

test('observe and unobserve are acknowledged, as numbers or words', async () => {
  const socket = await EventSocket.open(store.baseUrl, store.token);
  try {
    assert.deepEqual(await socket.command(0, '/files'), { type: 'ack', cmd: 0, path: '/files' });
    assert.deepEqual(await socket.command('observe', '/history'), { type: 'ack', cmd: 'observe', path: '/history' });
    assert.deepEqual(await socket.command(0, '/app/my-app/projects'), { type: 'ack', cmd: 0, path: '/app/my-app/projects' });
    assert.deepEqual(await socket.command(1, '/files'), { type: 'ack', cmd: 1, path: '/files' });
    assert.deepEqual(await socket.command('unobserve', '/history'), { type: 'ack', cmd: 'unobserve', path: '/history' });
  } finally {
    await socket.close();
  }
});

test('a live change reaches the observer of its path, and stops after unobserve', async () => {
  const socket = await EventSocket.open(store.baseUrl, store.token);
  try {
    await socket.command(0, '/history');
    const first = await addHistory('http://a.test/1');
    const event = await socket.next();
    assert.equal(event.type, 'event');
    assert.equal(event.operation, 'created');
    assert.equal(event.kind, 'Core#HttpHistory');
    assert.equal(event.id, first);
    assert.equal(typeof event.seq, 'number');

    await socket.command(1, '/history');
    const unseen = await addHistory('http://a.test/2');
    // Frames arrive in order: had the unobserved change been sent, it would come before this ack.
    assert.deepEqual(await socket.command(0, '/history'), { type: 'ack', cmd: 0, path: '/history' });
    const seen = await addHistory('http://a.test/3');
    const next = await socket.next();
    assert.equal(next.id, seen);
    assert.notEqual(next.id, unseen);

    const deleted = await store.api(`/history/${seen}`, { method: 'DELETE' });
    assert.ok(deleted.ok);
    const gone = await socket.next();
    assert.equal(gone.operation, 'deleted');
    assert.equal(gone.id, seen);
    assert.ok((gone.seq as number) > (next.seq as number));
  } finally {
    await socket.close();
  }
});

test('app data events reach the observers of that app and collection only', async () => {
  const socket = await EventSocket.open(store.baseUrl, store.token);
  try {
    await socket.command(0, '/app/events-app/projects');
    const create = async (path: string) => {
      const response = await store.api(path, { method: 'POST', body: { info: { name: 'r' } } });
      assert.equal(response.status, 201);
      return ((await response.json()) as { key: string }).key;
    };
    await create('/app/events-app/requests');
    await create('/app/other-app/projects');
    const project = await create('/app/events-app/projects');
    // Frames come in seq order: the two earlier records would have arrived first.
    const event = await socket.next();
    assert.deepEqual([event.operation, event.id], ['created', project]);
  } finally {
    await socket.close();
  }
});

test('a change matching several observed paths is sent once', async () => {
  const socket = await EventSocket.open(store.baseUrl, store.token);
  try {
    await socket.command(0, '/history');
    await socket.command(0, '/history');
    const key = await addHistory('http://a.test/once');
    assert.equal((await socket.next()).id, key);
    assert.deepEqual(await socket.command(1, '/files'), { type: 'ack', cmd: 1, path: '/files' });
  } finally {
    await socket.close();
  }
});

test('invalid commands get an error frame on that socket, which stays usable', async () => {
  const socket = await EventSocket.open(store.baseUrl, store.token);
  try {
    for (const bad of ['not json', '[]', '{"cmd":7,"path":"/files"}', '{"cmd":0}', '{"kind":"Other","cmd":0,"path":"/files"}', '{"cmd":0,"path":"/files","since":-1}']) {
      socket.send(bad);
      const frame = await socket.next();
      assert.equal(frame.type, 'error', bad);
      assert.equal(frame.code, 'invalid_command', bad);
      assert.equal(typeof frame.message, 'string');
    }
    for (const path of ['/nope', '/files/a/b', '/app/x/other', '/files/', 'files']) {
      const frame = await socket.command(0, path);
      assert.deepEqual([frame.type, frame.code, frame.path], ['error', 'invalid_command', path]);
    }
    socket.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await socket.next()).code, 'invalid_command');
    assert.deepEqual(await socket.command(0, '/files/no-such-file'), {
      type: 'error',
      code: 'file_not_found',
      message: 'There is no file no-such-file you can read.',
      path: '/files/no-such-file',
    });
    assert.deepEqual(await socket.command(0, '/history'), { type: 'ack', cmd: 0, path: '/history' });

    for (let n = 1; n < 256; n++) socket.send({ kind: 'Core#BackendCommand', cmd: 0, path: `/app/app${n}/projects` });
    assert.ok((await socket.take(255)).every((frame) => frame.type === 'ack'));
    const tooMany = await socket.command(0, '/app/one-more/projects');
    assert.deepEqual([tooMany.type, tooMany.code], ['error', 'invalid_command']);
    assert.equal((await socket.command(1, '/app/app1/projects')).type, 'ack');
    assert.equal((await socket.command(0, '/app/one-more/projects')).type, 'ack');
  } finally {
    await socket.close();
  }
});

test('a bad token is refused before the upgrade and a bad message stays on its socket', async () => {
  const good = await EventSocket.open(store.baseUrl, store.token);
  try {
    await good.command(0, '/history');
    await assert.rejects(EventSocket.open(store.baseUrl, 'not-the-token'), { status: 401 });
    await assert.rejects(EventSocket.open(store.baseUrl, undefined), { status: 401 });
    const noisy = await EventSocket.open(store.baseUrl, store.token);
    noisy.send('{{{');
    assert.equal((await noisy.next()).code, 'invalid_command');
    const key = await addHistory('http://a.test/after-bad');
    assert.equal((await good.next()).id, key);
    assert.equal(noisy.pending, 0);
    await noisy.close();
  } finally {
    await good.close();
  }
});

test('the upgrade goes through the Host and Origin checks and accepts the bearer header', async () => {
  await assert.rejects(EventSocket.open(store.baseUrl, store.token, { Host: 'evil.example' }), { status: 403 });
  await assert.rejects(EventSocket.open(store.baseUrl, store.token, { Origin: 'https://evil.example' }), { status: 403 });
  const byHeader = await EventSocket.open(store.baseUrl, undefined, { Authorization: `Bearer ${store.token}` });
  assert.deepEqual(await byHeader.command(0, '/history'), { type: 'ack', cmd: 0, path: '/history' });
  await byHeader.close();
});

test('GET /events without an upgrade is 426; both event routes are in the OpenAPI document', async () => {
  const response = await store.api('/events');
  assert.equal(response.status, 426);
  assert.equal(((await response.json()) as { code: string }).code, 'upgrade_required');
  const document = (await (await store.api('/openapi.json')).json()) as { paths: Record<string, unknown> };
  assert.ok(document.paths['/events'] && document.paths['/changes']);
});

test('a message larger than a command can be closes that socket alone (1009)', async () => {
  const good = await EventSocket.open(store.baseUrl, store.token);
  const big = await EventSocket.open(store.baseUrl, store.token);
  try {
    big.send('x'.repeat(65 * 1024));
    assert.equal((await big.closed).code, 1009);
    assert.deepEqual(await good.command(0, '/history'), { type: 'ack', cmd: 0, path: '/history' });
  } finally {
    await good.close();
  }
});

test('stopping the store closes sockets with 1001', async () => {
  const own = await startTestStore();
  const socket = await EventSocket.open(own.baseUrl, own.token);
  await socket.command(0, '/history');
  await own.stop();
  assert.equal((await socket.closed).code, 1001);
});
