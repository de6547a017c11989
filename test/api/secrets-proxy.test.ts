import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { assertNotIn, assertNotInFiles, plaintext, projectWith } from '../helpers/secrets.js';
import { startTestStore, type TestStore } from '../helpers/store.js';
import { startTeam } from '../helpers/team.js';

/**
 * The proxy resolves secrets inside the store: the target gets the real value, while the app's
 * answer and the history entry get a mask in its place.
 */

type Json = Record<string, any>;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
const target = createServer((request, response) => {
  seen.push({ url: request.url ?? '', headers: request.headers });
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: request.url, headers: request.headers }));
});
let targetUrl: string;
let store: TestStore;

before(async () => {
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  store = await startTestStore();
});
after(async () => {
  target.closeAllConnections();
  await new Promise((resolve) => target.close(resolve));
  await store.stop();
});

const secret = plaintext('proxy');
const lines = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line) as Json);

async function createProject(call: (path: string, init: Json) => Promise<{ status: number; body: Json }>): Promise<string> {
  const document = projectWith(
    [{ name: 'baseUrl', value: targetUrl }, { name: 'apiKey', value: secret, secret: true }],
    [{ key: 'r1', url: '{{baseUrl}}/echo?key={{apiKey}}', headers: 'x-api-key: {{apiKey}}' }],
  );
  const created = await call('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'run me' } }, media: document } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.key;
}

const callStore = async (path: string, init: Json) => {
  const response = await store.api(path, init);
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : { text } };
};

test('a project run reaches the target with the real value; its lines and history hold a mask', async () => {
  const pid = await createProject(callStore);
  seen.length = 0;
  const response = await store.api('/proxy', { method: 'POST', body: { kind: 'Core#HttpProject', pid, options: { environment: 'default' } } });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const [line, summary] = lines(text);
  assert.equal(summary.failures, 0, text);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].headers['x-api-key'], secret);
  assert.equal(new URL(seen[0].url, targetUrl).searchParams.get('key'), secret);
  assertNotIn(text, [secret], 'the run’s lines');
  assert.ok(JSON.stringify(line.result.request).includes('[masked]'));

  const history = await store.api('/history?type=user');
  const historyText = await history.text();
  assert.ok(JSON.parse(historyText).items.length >= 1);
  assertNotIn(historyText, [secret], 'history');
  assert.ok(historyText.includes('[masked]'));
  assertNotIn(await (await store.api(`/history/export`)).text(), [secret], 'the HAR export');
});

test('one request: a variable given as the secret marker is opened from from.project', async () => {
  const pid = await createProject(callStore);
  const marker = (await (await store.api(`/files/${pid}?alt=media`)).json()).definitions.environments[0].variables[1].value;
  assert.equal(marker.set, true);
  const request = { kind: 'Core#HttpRequest', request: { url: `${targetUrl}/one`, method: 'GET', headers: 'authorization: Bearer {{apiKey}}' }, variables: [{ name: 'apiKey', value: marker }] };
  seen.length = 0;
  const sent = await store.api('/proxy', { method: 'POST', body: { ...request, from: { project: pid } } });
  const text = await sent.text();
  assert.equal(sent.status, 200, text);
  assert.equal(seen[0].headers.authorization, `Bearer ${secret}`);
  assertNotIn(text, [secret], 'the proxy answer');

  const unnamed = await store.api('/proxy', { method: 'POST', body: request });
  assert.equal(unnamed.status, 400);
  assert.equal(seen.length, 1, 'nothing sent without the project');
  assertNotIn(await (await store.api('/history?type=user')).text(), [secret], 'history');

  await store.stop({ keepData: true });
  await assertNotInFiles(store.dataDir, [secret]);
  store = await startTestStore({ dataDir: store.dataDir });
});

test('multi-user: a reader can neither run a project with its secrets nor send one of its secrets', async () => {
  const team = await startTeam({ proxy: { allowPrivateTargets: true } });
  try {
    const { alice, bob, call } = team;
    const pid = await createProject((path, init) => call(alice, path, init));
    assert.equal((await call(alice, `/files/${pid}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: 'reader' }] })).status, 200);
    seen.length = 0;
    const response = await team.store.api('/proxy', { method: 'POST', token: bob.token, body: { kind: 'Core#HttpProject', pid, options: { environment: 'default', variables: { baseUrl: targetUrl } } } });
    const [line] = lines(await response.text());
    assert.equal(line.result.error.code, 'unknown_variable');
    assert.equal(seen.length, 0, 'the target heard nothing');

    const marker = (await call(bob, `/files/${pid}?alt=media`)).body.definitions.environments[0].variables[1].value;
    const single = await call(bob, '/proxy', { method: 'POST', body: { kind: 'Core#HttpRequest', request: { url: `${targetUrl}/steal?k={{apiKey}}` }, variables: { apiKey: marker }, from: { project: pid } } });
    assert.equal(single.status, 403);
    assert.equal(single.body.code, 'forbidden_role');
    assert.equal(seen.length, 0);

    // As a writer, Bob may use it (he may reveal it as well).
    assert.equal((await call(alice, `/files/${pid}/users`, { method: 'PATCH', body: [{ op: 'add', type: 'user', id: bob.key, value: 'writer' }] })).status, 200);
    const allowed = await call(bob, '/proxy', { method: 'POST', body: { kind: 'Core#HttpRequest', request: { url: `${targetUrl}/use?k={{apiKey}}` }, variables: { apiKey: marker }, from: { project: pid } } });
    assert.equal(allowed.status, 200);
    assert.equal(new URL(seen[0].url, targetUrl).searchParams.get('k'), secret);
    assertNotIn(JSON.stringify(allowed.body), [secret], 'the answer');
  } finally {
    await team.stop();
  }
});
