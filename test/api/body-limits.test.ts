import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventSocket } from '../helpers/event-socket.js';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam, type Team } from '../helpers/team.js';

/**
 * Size and depth caps as a hostile teammate meets them (issue 12, findings 5 and 7): the body
 * cap comes from the route, file metadata is capped however it is written, and JSON nested too
 * deeply to encode again is refused at the edge instead of failing at write time.
 */

const MiB = 1024 * 1024;
/** A kind whose contents are free-form JSON (a project's contents must be a project document). */
const note = (name: string, extra: Record<string, unknown> = {}) => ({ kind: 'Core#Note', info: { name }, ...extra });
const historyEntry = (extra: Record<string, unknown> = {}) => ({
  app: 'api-client',
  log: { request: { url: 'https://example.com/', method: 'GET', headers: '', startTime: 1 } },
  ...extra,
});
/** `depth` arrays nested in one another, as compact JSON text (10 KB for 5,000 levels). */
const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('body caps come from the route', () => {
  let team: Team;
  before(async () => {
    team = await startTeam();
  });
  after(() => team.stop());

  test('a teammate cannot raise the cap of a metadata route with ?alt=media', async () => {
    const body = JSON.stringify([historyEntry({ padding: 'x'.repeat(5 * MiB) })]);
    for (const path of ['/history?alt=media', '/history/batch/create?alt=media', '/app/api-client/projects?alt=media', '/files/batch?alt=media']) {
      const { status, body: problem } = await team.call(team.bob, path, { method: 'POST', body });
      assert.equal(status, 413, path);
      assert.equal(problem.code, 'payload_too_large', path);
    }
    const history = await team.call(team.bob, '/history');
    assert.deepEqual(history.body.items, [], 'nothing stored');
  });

  test('a 9 MiB metadata document inside a create with contents is refused, and nothing is stored', async () => {
    const body = { meta: note('huge', { padding: 'x'.repeat(9 * MiB) }), media: { requests: [] } };
    const { status, body: problem } = await team.call(team.bob, '/files?alt=media', { method: 'POST', body });
    assert.equal(status, 413);
    assert.equal(problem.code, 'payload_too_large');
    const listed = await team.call(team.bob, '/files');
    assert.deepEqual(listed.body.items, []);
  });

  test('contents up to the media cap are accepted on the contents routes', async () => {
    const created = await team.call(team.alice, '/files?alt=media', { method: 'POST', body: { meta: note('big contents'), media: { data: 'x'.repeat(3 * MiB) } } });
    assert.equal(created.status, 201);
    const url = `/files/${created.body.key}?alt=media`;
    assert.equal((await team.call(team.alice, url, { method: 'PUT', body: { data: 'y'.repeat(4 * MiB) } })).status, 200);
    assert.equal((await team.call(team.alice, url, { method: 'PATCH', body: [{ op: 'add', path: '/more', value: 'z'.repeat(2 * MiB) }] })).status, 200);
  });

  test('metadata grown past the cap by patches is refused, counted in bytes, and the file keeps its last version', async () => {
    // 300,000 three-byte characters: 900 KB, under the 1 MiB body cap, in 300,000 string characters.
    const chunk = '€'.repeat(300_000);
    const created = await team.call(team.alice, '/files', { method: 'POST', body: note('growing', { part1: chunk }) });
    assert.equal(created.status, 201);
    const url = `/files/${created.body.key}`;
    const patched = await team.call(team.alice, url, { method: 'PATCH', body: [{ op: 'add', path: '/part2', value: chunk }] });
    assert.equal(patched.status, 413, 'the metadata would take 1.8 MB');
    assert.equal(patched.body.code, 'payload_too_large');
    const stored = await team.call(team.alice, url);
    assert.equal(stored.body.version, 1);
    assert.equal(stored.body.part2, undefined);
  });
});

describe('JSON nested too deeply is refused at the edge', () => {
  let team: Team;
  before(async () => {
    team = await startTeam();
  });
  after(() => team.stop());

  test('5,000 nested arrays get 400 too_deep on every route that stores a body, and the store keeps serving', async () => {
    const created = await team.call(team.bob, '/files?alt=media', { method: 'POST', body: { meta: note('target'), media: {} } });
    assert.equal(created.status, 201);
    const key = created.body.key as string;
    const deep = nestedArrays(5000);
    const attempts: [string, string, string][] = [
      ['PUT', `/files/${key}?alt=media`, deep],
      ['PATCH', `/files/${key}?alt=media`, `[{"op":"add","path":"/a","value":${deep}}]`],
      ['PATCH', `/files/${key}`, `[{"op":"add","path":"/a","value":${deep}}]`],
      ['POST', '/files', JSON.stringify(note('deep')).replace(/}$/, `,"deep":${deep}}`)],
      ['POST', '/files?alt=media', `{"meta":${JSON.stringify(note('deep'))},"media":${deep}}`],
      ['POST', '/history', JSON.stringify(historyEntry()).replace(/}$/, `,"deep":${deep}}`)],
      ['POST', '/history/batch/create', `[${JSON.stringify(historyEntry()).replace(/}$/, `,"deep":${deep}}`)}]`],
      ['POST', '/app/api-client/projects', `{"info":{"name":"deep"},"deep":${deep}}`],
      ['POST', '/app/api-client/requests/batch/create', `[{"info":{"name":"deep"},"deep":${deep}}]`],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await team.call(team.bob, path, { method, body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(answer.status, 400, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.code, 'too_deep', `${method} ${path}`);
    }
    assert.equal((await team.call(team.bob, `/files/${key}?alt=media`)).status, 200);
    assert.deepEqual((await team.call(team.bob, `/files/${key}?alt=media`)).body, {});
    assert.deepEqual((await team.call(team.bob, '/history')).body.items, []);
    assert.equal((await team.store.api('/store', { token: null })).status, 200);
  });

  test('a patch that copies a subtree into itself until it nests 5,000 deep gets too_deep, never a 500', async () => {
    // Every operation is small and shallow; each copies /b into its own deepest reachable array
    // (a pointer holds at most 1,022 steps): 15 of them nest /b 5,112 levels deep.
    const ops: object[] = [{ op: 'add', path: '/b', value: [] }];
    for (let depth = 1; depth < 5000; ) {
      const steps = Math.min(depth - 1, 1021);
      ops.push({ op: 'copy', from: '/b', path: `/b${'/0'.repeat(steps)}/-` });
      depth += steps + 1;
    }
    const created = await team.call(team.bob, '/files?alt=media', { method: 'POST', body: { meta: note('grown'), media: {} } });
    const record = await team.call(team.bob, '/app/api-client/projects', { method: 'POST', body: { info: { name: 'grown' } } });
    for (const target of [`/files/${created.body.key}?alt=media`, `/files/${created.body.key}`, `/app/api-client/projects/${record.body.key}`]) {
      const answer = await team.call(team.bob, target, { method: 'PATCH', body: ops });
      assert.equal(answer.status, 400, `${target}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.code, 'too_deep', target);
      const read = await team.call(team.bob, target);
      assert.equal(read.status, 200, 'the document stays readable');
      assert.equal(read.body.b, undefined, 'and unchanged');
    }
  });

  test('an app record grown past the metadata cap by patches is refused', async () => {
    const chunk = '€'.repeat(300_000);
    const created = await team.call(team.alice, '/app/api-client/requests', { method: 'POST', body: { info: { name: 'growing' }, part1: chunk } });
    assert.equal(created.status, 201);
    const url = `/app/api-client/requests/${created.body.key}`;
    const patched = await team.call(team.alice, url, { method: 'PATCH', body: [{ op: 'add', path: '/part2', value: chunk }] });
    assert.equal(patched.status, 413);
    assert.equal(patched.body.code, 'payload_too_large');
    assert.equal((await team.call(team.alice, url)).body.part2, undefined);
  });

  test('a deeply nested event socket command is an invalid command, and the socket keeps working', async () => {
    // Commands are checked against a flat schema and never encoded again: no depth check needed there.
    const socket = await EventSocket.open(team.store.baseUrl, team.bob.token);
    try {
      socket.send(`{"kind":"Core#BackendCommand","cmd":"observe","path":${nestedArrays(30_000)}}`);
      const refused = await socket.next();
      assert.equal(refused.type, 'error');
      assert.equal(refused.code, 'invalid_command');
      assert.equal((await socket.command('observe', '/files')).type, 'ack');
    } finally {
      await socket.close();
    }
  });

  test('nesting up to the limit is accepted', async () => {
    // The limit (100) counts the body's own levels: {meta, media} is one, so the contents may nest 99.
    const created = await team.call(team.alice, '/files?alt=media', { method: 'POST', body: `{"meta":${JSON.stringify(note('nested'))},"media":${nestedArrays(99)}}`, headers: { 'Content-Type': 'application/json' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const read = await team.call(team.alice, `/files/${created.body.key}?alt=media`);
    assert.equal(JSON.stringify(read.body), nestedArrays(99));
    const tooDeep = await team.call(team.alice, '/files?alt=media', { method: 'POST', body: `{"meta":${JSON.stringify(note('nested'))},"media":${nestedArrays(100)}}`, headers: { 'Content-Type': 'application/json' } });
    assert.equal(tooDeep.status, 400);
    assert.equal(tooDeep.body.code, 'too_deep');
  });
});

describe('bodies are read straight from the Node request, with the cap, type and syntax answers', () => {
  const cap = 4096;
  let store: TestStore;
  let key: string;
  before(async () => {
    store = await startTestStore({ limits: { metadataBytes: cap } });
    const created = await store.api('/files', { method: 'POST', body: note('target') });
    assert.equal(created.status, 201);
    key = ((await created.json()) as { key: string }).key;
  });
  after(() => store.stop());

  /** JSON padded with trailing spaces to exactly `size` bytes: the body is that long, the document stays small. */
  const padded = (value: unknown, size: number) => {
    const text = JSON.stringify(value);
    return text + ' '.repeat(size - Buffer.byteLength(text));
  };
  /** The same bytes without Content-Length: the reader has to count while it reads. */
  const streamed = (text: string) =>
    new ReadableStream({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let at = 0; at < bytes.length; at += 1000) controller.enqueue(bytes.slice(at, at + 1000));
        controller.close();
      },
    });
  const send = (method: string, path: string, body: BodyInit, type = 'application/json') =>
    fetch(`${store.baseUrl}${path}`, { method, body, duplex: 'half', headers: { Authorization: `Bearer ${store.token}`, 'Content-Type': type } } as RequestInit);
  const cases = [
    { method: 'POST', path: () => '/files', value: () => note('at the cap'), ok: 201 },
    { method: 'PATCH', path: () => `/files/${key}`, value: () => [{ op: 'replace', path: '/info/name', value: 'patched at the cap' }], ok: 200 },
  ];

  for (const { method, path, value, ok } of cases) {
    test(`${method} /files: exactly the cap is accepted, one byte more is 413, with and without Content-Length`, async () => {
      for (const body of [(text: string) => text, streamed]) {
        const at = await send(method, path(), body(padded(value(), cap)));
        assert.equal(at.status, ok, await at.clone().text());
        await at.arrayBuffer();
        const over = await send(method, path(), body(padded(value(), cap + 1)));
        assert.equal(over.status, 413);
        assert.equal(((await over.json()) as { code: string }).code, 'payload_too_large');
      }
    });

    test(`${method} /files: a wrong type is 415, malformed JSON 400, a valid but wrong document 400 validation_failed`, async () => {
      const wrongType = await send(method, path(), JSON.stringify(value()), 'text/plain');
      assert.deepEqual([wrongType.status, ((await wrongType.json()) as { code: string }).code], [415, 'unsupported_media_type']);
      const malformed = await send(method, path(), '{"kind": "Core#HttpProject", ');
      assert.deepEqual([malformed.status, ((await malformed.json()) as { code: string }).code], [400, 'malformed_json']);
      const invalid = await send(method, path(), JSON.stringify(method === 'POST' ? { kind: 'no spaces allowed' } : [{ op: 'shuffle' }]));
      assert.equal(invalid.status, 400);
      assert.equal(((await invalid.json()) as { code: string }).code, 'validation_failed');
    });
  }
});
