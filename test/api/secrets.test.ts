import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { configSchema } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import { startStore, type RunningStore } from '../../backend/src/server.js';
import { EventSocket } from '../helpers/event-socket.js';
import { assertNotIn, assertNotInFiles, plaintext, projectWith } from '../helpers/secrets.js';
import { makeTempDir } from '../helpers/store.js';

/**
 * Secret variables at rest (single-user): sealed on every write path, a marker on every read
 * path, the values only through `reveal=secrets`, and nowhere in clear in the data dir.
 */

type Json = Record<string, any>;
let running: RunningStore;
let dataDir: string;
const token = createLaunchToken();
let baseUrl: string;
const logLines: string[] = [];
const values = { create: plaintext('create'), put: plaintext('put'), patch: plaintext('patch'), imported: plaintext('import'), other: plaintext('other'), certificateKey: plaintext('certificate-key'), passphrase: plaintext('passphrase') };
const all = Object.values(values);

async function api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; json: Json }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method,
    headers: { Authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, text, json: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {} };
}

before(async () => {
  dataDir = await makeTempDir('api-store-secrets-api-');
  const config = configSchema.parse({ dataDir, token, logLevel: 'info' });
  running = await startStore(config, createLogger('info', (line) => logLines.push(line)));
  baseUrl = `http://127.0.0.1:${running.port}/v1`;
});
after(async () => {
  await running.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const keys: Record<string, string> = {};
const variable = (document: Json, name: string) => document.definitions.environments[0].variables.find((v: Json) => v.name === name);

test('secrets written through create, PUT, PATCH and import read back as markers', async () => {
  const created = await api('/files?alt=media', {
    method: 'POST',
    body: { meta: { kind: 'Core#HttpProject', info: { name: 'created' } }, media: projectWith([{ name: 'apiKey', value: values.create, secret: true }, { name: 'host', value: 'example.test' }]) },
  });
  assert.equal(created.status, 201, created.text);
  keys.created = created.json.key;

  const putFile = await api('/files', { method: 'POST', body: { kind: 'Core#HttpProject', info: { name: 'put' } } });
  keys.put = putFile.json.key;
  const put = await api(`/files/${keys.put}?alt=media`, { method: 'PUT', body: projectWith([{ name: 'token', value: values.put, secret: true }]) });
  assert.equal(put.status, 200, put.text);
  assertNotIn(put.text, all, 'the PUT answer');
  assert.equal(put.json.value.definitions.environments[0].variables[0].value.set, true);

  const patched = await api(`/files/${keys.created}?alt=media`, {
    method: 'PATCH',
    body: [{ op: 'add', path: '/definitions/environments/0/variables/-', value: { kind: 'Core#Property', name: 'password', type: 'string', value: values.patch, secret: true } }],
  });
  assert.equal(patched.status, 200, patched.text);
  assertNotIn(patched.text, all, 'the PATCH answer');

  const imported = await api('/import', { method: 'POST', body: projectWith([{ name: 'importKey', value: values.imported, secret: true }]) });
  assert.equal(imported.status, 201, imported.text);
  keys.imported = imported.json.created[0].key;

  for (const [file, name] of [[keys.created, 'apiKey'], [keys.created, 'password'], [keys.put, 'token'], [keys.imported, 'importKey']]) {
    const read = await api(`/files/${file}?alt=media`);
    assertNotIn(read.text, all, `GET ${file}`);
    const value = variable(read.json, name).value;
    assert.deepEqual(Object.keys(value).sort(), ['$secret', 'set']);
    assert.equal(value.set, true);
    assert.match(value.$secret, /^[A-Za-z0-9_-]+$/);
  }
  // A stored client certificate: its private key and passphrase are sealed the same way.
  const certificate = { kind: 'Core#Certificate', key: 'client', type: 'pem', cert: { data: '-----BEGIN CERTIFICATE-----\npublic\n' }, certKey: { data: `-----BEGIN PRIVATE KEY-----\n${values.certificateKey}\n`, passphrase: values.passphrase } };
  const stored = await api('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#Certificate', info: { name: 'client' } }, media: certificate } });
  assert.equal(stored.status, 201, stored.text);
  const certificateRead = await api(`/files/${stored.json.key}?alt=media`);
  assertNotIn(certificateRead.text, all, 'GET the certificate');
  assert.equal(certificateRead.json.certKey.data.set, true);
  assert.equal(certificateRead.json.certKey.passphrase.set, true);
  assert.deepEqual(certificateRead.json.cert, certificate.cert);
  // A variable not marked secret stays as it is.
  assert.equal(variable((await api(`/files/${keys.created}?alt=media`)).json, 'host').value, 'example.test');
});

test('a PUT or PATCH that sends the markers back keeps the sealed values; a changed value replaces one', async () => {
  const before = (await api(`/files/${keys.created}?alt=media`)).json;
  before.info.name = 'renamed';
  assert.equal((await api(`/files/${keys.created}?alt=media`, { method: 'PUT', body: before })).status, 200);
  const patched = await api(`/files/${keys.created}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/info/description', value: 'edited' }] });
  assert.equal(patched.status, 200);
  const revealed = (await api(`/files/${keys.created}?alt=media&reveal=secrets`)).json;
  assert.equal(variable(revealed, 'apiKey').value, values.create);
  assert.equal(variable(revealed, 'password').value, values.patch);
  assert.equal(revealed.info.description, 'edited');

  // Another file's marker opens nothing here: it becomes an unset secret.
  const stranger = variable((await api(`/files/${keys.put}?alt=media`)).json, 'token').value;
  const withStranger = await api(`/files/${keys.created}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/definitions/environments/0/variables/-', value: { name: 'stolen', type: 'string', value: stranger, secret: true } }] });
  assert.equal(withStranger.status, 200, withStranger.text);
  assert.equal(variable((await api(`/files/${keys.created}?alt=media`)).json, 'stolen').value.set, false);
  assert.equal(variable((await api(`/files/${keys.created}?alt=media&reveal=secrets`)).json, 'stolen').value.set, false);

  // A new value through a patch of the value alone.
  const replaced = await api(`/files/${keys.put}?alt=media`, { method: 'PATCH', body: [{ op: 'replace', path: '/definitions/environments/0/variables/0/value', value: values.other }] });
  assert.equal(replaced.status, 200, replaced.text);
  assert.equal(variable((await api(`/files/${keys.put}?alt=media&reveal=secrets`)).json, 'token').value, values.other);
  // Reverting that change restores the marker of the previous value, whose sealed value is gone: an unset secret, never plaintext.
  assertNotIn(replaced.text, all, 'the revert');
});

test('revisions, the change feed, events and exports carry no value', async () => {
  for (const key of Object.values(keys)) {
    assertNotIn((await api(`/files/${key}/revisions`)).text, all, `revisions of ${key}`);
    assertNotIn((await api(`/files/${key}/export`)).text, all, `the export of ${key}`);
    assertNotIn((await api(`/files/${key}/export?format=postman-v2.1`)).text, all, `the Postman export of ${key}`);
  }
  const postman = (await api(`/files/${keys.imported}/export?format=postman-v2.1`)).json;
  assert.deepEqual(postman.variable.find((v: Json) => v.key === 'importKey'), { key: 'importKey', value: '', type: 'secret' });
  const feed = await api('/changes?since=0');
  assert.equal(feed.status, 200);
  assert.ok(feed.json.items.length > 5);
  assertNotIn(feed.text, all, 'the change feed');

  const socket = await EventSocket.open(baseUrl, token);
  const frames = [];
  // Contents changes go to each file's own path.
  for (const path of ['/files', ...Object.values(keys).map((key) => `/files/${key}`)]) {
    assert.equal((await socket.command(0, path, { since: 0 })).type, 'ack');
    for (;;) {
      const frame = await socket.next();
      frames.push(frame);
      if (frame.type === 'replayed') break;
    }
  }
  assert.ok(frames.filter((frame) => frame.type === 'event' && (frame.data as Json)?.media).length >= 5);
  // A live change too.
  await api(`/files/${keys.imported}?alt=media`, { method: 'PATCH', body: [{ op: 'add', path: '/definitions/environments/0/variables/-', value: { name: 'live', type: 'string', value: values.other, secret: true } }] });
  frames.push(await socket.next());
  await socket.close();
  assertNotIn(JSON.stringify(frames), all, 'events');
});

test('reveal=secrets gives the values to the owner and logs who and which file, never the value', async () => {
  logLines.length = 0;
  const revealed = await api(`/files/${keys.imported}?alt=media&reveal=secrets`);
  assert.equal(revealed.status, 200);
  assert.equal(variable(revealed.json, 'importKey').value, values.imported);
  const line = logLines.map((text) => JSON.parse(text)).find((entry) => entry.msg === 'secrets revealed');
  assert.ok(line, logLines.join('\n'));
  assert.equal(line.file, keys.imported);
  assert.equal(line.count, 2);
  assertNotIn(logLines.join('\n'), all, 'the log');
  assert.equal((await api(`/files/${keys.imported}?reveal=secrets`)).status, 400);
});

test('no value is in clear in any file of the data dir, LevelDB and a backup included', async () => {
  const backup = await api('/backups', { method: 'POST' });
  assert.equal(backup.status, 201, backup.text);
  await running.stop();
  const scanned = await assertNotInFiles(dataDir, all);
  assert.ok(scanned >= 5, `only ${scanned} files`);
  running = await startStore(configSchema.parse({ dataDir, token, logLevel: 'silent' }), createLogger('silent'));
  baseUrl = `http://127.0.0.1:${running.port}/v1`;
  // Sealed, not lost: the restarted store opens them with the same key file.
  assert.equal(variable((await api(`/files/${keys.imported}?alt=media&reveal=secrets`)).json, 'importKey').value, values.imported);
});

test('deleting a project for good removes its sealed values in the same write', async () => {
  const storage = running.services.store.storage;
  const sealedOf = async (key: string) => {
    const found: string[] = [];
    for await (const entry of storage.keys('file-secrets', { gte: `${key}\0`, lt: `${key}\0\uffff` })) found.push(entry);
    return found;
  };
  assert.equal((await sealedOf(keys.put)).length, 1);
  assert.equal((await api(`/files/${keys.put}`, { method: 'DELETE' })).status, 204);
  // In trash the values stay, for a restore.
  assert.equal((await sealedOf(keys.put)).length, 1);
  assert.equal((await api(`/trash/${keys.put}`, { method: 'DELETE' })).status, 204);
  assert.deepEqual(await sealedOf(keys.put), []);
  // Removing a secret variable drops its sealed value too.
  const document = (await api(`/files/${keys.created}?alt=media`)).json;
  const count = (await sealedOf(keys.created)).length;
  document.definitions.environments[0].variables = document.definitions.environments[0].variables.filter((v: Json) => v.name !== 'apiKey');
  assert.equal((await api(`/files/${keys.created}?alt=media`, { method: 'PUT', body: document })).status, 200);
  assert.equal((await sealedOf(keys.created)).length, count - 1);
});
