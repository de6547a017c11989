import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { generateDataKey, keyRingText, parseKeyRing } from '../../backend/src/secrets/key-ring.js';
import { sealedKeyId } from '../../backend/src/secrets/seal.js';
import { fileSections } from '../../backend/src/store/file-records.js';
import { openDataDir } from '../../backend/src/store/open-data-dir.js';
import { exitOf, forkBackend, nextMessage } from '../helpers/backend-process.js';
import { outputOf, runCli, waitForLine } from '../helpers/cli-process.js';
import { assertNotInFiles, plaintext, projectWith } from '../helpers/secrets.js';
import { makeTempDir } from '../helpers/store.js';

/**
 * Key rotation while the store serves: reads never fail, a SIGKILL halfway loses nothing and the
 * restarted store finishes the job; `api-store rotate-key` through a running server and offline;
 * and a wrong key at start.
 */

const children = new Set<ChildProcess>();
const dirs: string[] = [];
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir() {
  const dir = await makeTempDir('api-store-rotation-');
  dirs.push(dir);
  return dir;
}

type Json = Record<string, any>;

async function startBackend(dataDir: string, keyFile: string, rotation: { rotationBatchSize: number; rotationPauseMs: number }) {
  const token = createLaunchToken();
  const child = forkBackend();
  children.add(child);
  child.send({ type: 'start', config: { dataDir, token, logLevel: 'silent', secrets: { keyFile, keyFileOrigin: '--key-file', ...rotation } } });
  const { port } = await nextMessage(child, 'ready');
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}/v1${path}`, {
      method: init.method,
      headers: { Authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  return { child, api };
}

/** Seeds projects with `count` secret variables each; answers each project's key and values. */
async function seed(api: Awaited<ReturnType<typeof startBackend>>['api'], projects: number, count: number) {
  const seeded: { key: string; values: string[] }[] = [];
  for (let p = 0; p < projects; p++) {
    const values = Array.from({ length: count }, (_, i) => plaintext(`r${p}-${i}`));
    const media = projectWith(values.map((value, i) => ({ name: `v${i}`, value, secret: true })));
    const created = await api('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: `p${p}` } }, media } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    seeded.push({ key: created.body.key, values });
  }
  return seeded;
}

async function assertAllRevealed(api: Awaited<ReturnType<typeof startBackend>>['api'], seeded: { key: string; values: string[] }[]) {
  for (const { key, values } of seeded) {
    const read = await api(`/files/${key}?alt=media&reveal=secrets`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.deepEqual(read.body.definitions.environments[0].variables.map((v: Json) => v.value), values);
  }
}

/** The key ids of every sealed value, read from the stopped store's LevelDB. */
async function sealedKeyIds(dataDir: string): Promise<Set<string>> {
  const storage = await openDataDir(dataDir, { sync: false });
  try {
    const ids = new Set<string>();
    for await (const [, sealed] of storage.entries<string>(fileSections.secrets)) ids.add(sealedKeyId(sealed));
    return ids;
  } finally {
    await storage.close();
  }
}

const ringOf = async (keyFile: string) => parseKeyRing(await readFile(keyFile, 'utf8'));

test('rotation under concurrent reads: no read fails, every value ends under the new key, the old key is gone', async () => {
  const dataDir = await tempDir();
  const keyFile = join(await tempDir(), 'data.key');
  const backend = await startBackend(dataDir, keyFile, { rotationBatchSize: 25, rotationPauseMs: 2 });
  const seeded = await seed(backend.api, 8, 50);
  const before = await ringOf(keyFile);

  const started = await backend.api('/secrets/rotation', { method: 'POST' });
  assert.equal(started.status, 202);
  assert.equal(started.body.state, 'running');
  let reads = 0;
  let status = started.body;
  while (status.state === 'running') {
    await assertAllRevealed(backend.api, seeded.slice(reads % seeded.length, (reads % seeded.length) + 2));
    reads += 1;
    status = (await backend.api('/secrets/rotation')).body;
  }
  assert.equal(status.state, 'done', JSON.stringify(status));
  assert.equal(status.resealed, 400);
  assert.ok(reads >= 2, `only ${reads} rounds of reads ran during the rotation`);
  await assertAllRevealed(backend.api, seeded);
  const afterRing = await ringOf(keyFile);
  assert.notEqual(afterRing.current.id, before.current.id);
  assert.equal(afterRing.previous, undefined);
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
  backend.child.send({ type: 'shutdown' });
  await exitOf(backend.child);
  assert.deepEqual([...(await sealedKeyIds(dataDir))], [afterRing.current.id]);
  await assertNotInFiles(dataDir, seeded.flatMap((project) => project.values));
});

test('a rotation killed with SIGKILL halfway loses nothing; the restarted store reads every value and finishes it', async () => {
  const dataDir = await tempDir();
  const keyFile = join(await tempDir(), 'data.key');
  const slow = { rotationBatchSize: 10, rotationPauseMs: 30 };
  const first = await startBackend(dataDir, keyFile, slow);
  const seeded = await seed(first.api, 4, 100);
  const oldKey = (await ringOf(keyFile)).current.id;
  assert.equal((await first.api('/secrets/rotation', { method: 'POST' })).status, 202);
  let status;
  do status = (await first.api('/secrets/rotation')).body;
  while (status.state === 'running' && status.resealed < 50);
  assert.equal(status.state, 'running', 'the rotation was still running when killed');
  first.child.kill('SIGKILL');
  await exitOf(first.child);

  // Halfway: the key file holds both keys, and the values are sealed under one or the other.
  const ring = await ringOf(keyFile);
  assert.equal(ring.previous?.id, oldKey);
  assert.deepEqual([...(await sealedKeyIds(dataDir))].sort(), [oldKey, ring.current.id].sort());

  const second = await startBackend(dataDir, keyFile, slow);
  await assertAllRevealed(second.api, seeded);
  do status = (await second.api('/secrets/rotation')).body;
  while (status.state === 'running');
  assert.equal(status.state, 'done', JSON.stringify(status));
  assert.equal(status.keyId, ring.current.id);
  await assertAllRevealed(second.api, seeded);
  second.child.send({ type: 'shutdown' });
  await exitOf(second.child);
  assert.equal((await ringOf(keyFile)).previous, undefined);
  assert.deepEqual([...(await sealedKeyIds(dataDir))], [ring.current.id]);
});

test('api-store rotate-key through a running --server, then offline; a wrong key is a clear error at start and locks only secrets', async () => {
  const dataDir = await tempDir();
  const keyFile = join(await tempDir(), 'store.key');
  const server = runCli(['--server', '--data-dir', dataDir, '--log-level', 'error'], { API_STORE_KEY_FILE: keyFile });
  children.add(server);
  const [, url] = await waitForLine(server, /listening on (\S+)/);
  const { token } = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8'));
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${url}${path}`, { method: init.method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const seeded = await seed(api, 2, 5);
  const before = (await ringOf(keyFile)).current.id;

  const online = await outputOf(runCli(['rotate-key', '--data-dir', dataDir], { API_STORE_KEY_FILE: keyFile }));
  assert.equal(online.code, 0, online.stderr);
  assert.match(online.stdout, /data key rotated: every secret is sealed with key [0-9a-f]{16} \(10 re-sealed\)/);
  const middle = (await ringOf(keyFile)).current.id;
  assert.notEqual(middle, before);
  await assertAllRevealed(api, seeded);
  server.kill('SIGTERM');
  await exitOf(server);

  const offline = await outputOf(runCli(['rotate-key', '--data-dir', dataDir, '--key-file', keyFile]));
  assert.equal(offline.code, 0, offline.stderr);
  const last = await ringOf(keyFile);
  assert.notEqual(last.current.id, middle);
  assert.deepEqual([...(await sealedKeyIds(dataDir))], [last.current.id]);

  // The wrong key: the store starts, says so naming the key file, serves everything else, and changes nothing.
  const wrongKey = join(await tempDir(), 'wrong.key');
  await writeFile(wrongKey, keyRingText({ current: generateDataKey() }), { mode: 0o600 });
  const wrong = runCli(['--server', '--data-dir', dataDir, '--key-file', wrongKey, '--log-level', 'silent']);
  children.add(wrong);
  let stderr = '';
  wrong.stderr!.on('data', (chunk) => (stderr += chunk));
  const [, wrongUrl] = await waitForLine(wrong, /listening on (\S+)/);
  assert.match(stderr, new RegExp(`Secrets are locked: the data key in the key file ${wrongKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(--key-file\\)`));
  const wrongToken = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')).token;
  const get = (path: string) => fetch(`${wrongUrl}${path}`, { headers: { Authorization: `Bearer ${wrongToken}` } });
  const plain = await get(`/files/${seeded[0].key}?alt=media`);
  assert.equal(plain.status, 200);
  assert.equal(((await plain.json()) as Json).definitions.environments[0].variables[0].value.set, true);
  const locked = await get(`/files/${seeded[0].key}?alt=media&reveal=secrets`);
  assert.equal(locked.status, 503);
  const problem = (await locked.json()) as Json;
  assert.equal(problem.code, 'secrets_locked');
  assert.ok(problem.detail.includes(wrongKey));
  wrong.kill('SIGTERM');
  await exitOf(wrong);
  // Nothing was lost: the right key still opens every value.
  assert.deepEqual([...(await sealedKeyIds(dataDir))], [last.current.id]);
  const right = await startBackend(dataDir, keyFile, { rotationBatchSize: 100, rotationPauseMs: 0 });
  await assertAllRevealed(right.api, seeded);
  right.child.send({ type: 'shutdown' });
  await exitOf(right.child);
});

test('api-store import offline seals a Postman environment’s secret values with the key file; the server then reveals them', async () => {
  const dataDir = await tempDir();
  const keyFile = join(await tempDir(), 'store.key');
  const secret = plaintext('postman');
  const file = join(await tempDir(), 'env.postman_environment.json');
  await writeFile(file, JSON.stringify({ name: 'prod', _postman_variable_scope: 'environment', values: [{ key: 'token', value: secret, type: 'secret', enabled: true }, { key: 'host', value: 'example.test', type: 'default', enabled: true }] }));
  const imported = await outputOf(runCli(['import', file, '--data-dir', dataDir], { API_STORE_KEY_FILE: keyFile }));
  assert.equal(imported.code, 0, imported.stderr);
  const [project] = JSON.parse(imported.stdout).created;
  await assertNotInFiles(dataDir, [secret]);
  const backend = await startBackend(dataDir, keyFile, { rotationBatchSize: 100, rotationPauseMs: 0 });
  const read = await backend.api(`/files/${project.key}?alt=media`);
  assert.equal(read.body.definitions.environments[0].variables[0].value.set, true);
  const revealed = await backend.api(`/files/${project.key}?alt=media&reveal=secrets`);
  assert.equal(revealed.body.definitions.environments[0].variables[0].value, secret);
  assert.equal(revealed.body.definitions.environments[0].variables[1].value, 'example.test');
  backend.child.send({ type: 'shutdown' });
  await exitOf(backend.child);
});
