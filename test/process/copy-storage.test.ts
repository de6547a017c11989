import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { exitOf } from '../helpers/backend-process.js';
import { outputOf, runCli, waitForLine } from '../helpers/cli-process.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { makeTempDir, startTestStore } from '../helpers/store.js';

const digestOf = (stdout: string) => stdout.match(/digest (sha256:[0-9a-f]{64})/)?.[1];

test('copy-storage moves a LevelDB store into PostgreSQL and back, verified, with the same digest; the feed goes on after the copied seqs', async (t) => {
  const url = await (await sharedPostgres()).createDatabase();
  const source = await makeTempDir();
  const back = join(await makeTempDir(), 'copied');
  const serverDir = await makeTempDir();
  t.after(() => Promise.all([source, back, serverDir].map((dir) => rm(dir, { recursive: true, force: true }))));

  const store = await startTestStore({ dataDir: source, storage: undefined });
  const keys: string[] = [];
  for (let n = 0; n < 30; n++) {
    const response = await store.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name: `note ${n}` } } });
    keys.push(((await response.json()) as { key: string }).key);
  }
  assert.equal((await store.api('/history', { method: 'POST', body: { app: 'copy', log: { request: { url: 'http://a.test/', method: 'GET', headers: '', startTime: 1 } } } })).status, 201);
  const seq = store.running.services.store.seq;
  await store.stop({ keepData: true });

  const toPostgres = await outputOf(runCli(['copy-storage', '--from', source], { API_STORE_STORAGE_URL: url }));
  assert.equal(toPostgres.code, 0, toPostgres.stderr + toPostgres.stdout);
  assert.match(toPostgres.stdout, /no problems found/);
  const digest = digestOf(toPostgres.stdout);
  assert.ok(digest);

  const again = await outputOf(runCli(['copy-storage', '--from', source], { API_STORE_STORAGE_URL: url }));
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds records/);

  const toLevel = await outputOf(runCli(['copy-storage', '--to', back], { API_STORE_STORAGE_URL: url }));
  assert.equal(toLevel.code, 0, toLevel.stderr + toLevel.stdout);
  assert.equal(digestOf(toLevel.stdout), digest, 'the round trip keeps every record as it was');

  // A server on the copy serves every file and numbers its next change after the copied ones.
  const token = 'c'.repeat(43);
  const server = runCli(['--server', '--data-dir', serverDir, '--log-level', 'silent'], { API_STORE_TOKEN: token, API_STORE_STORAGE_URL: url });
  t.after(() => server.kill('SIGKILL'));
  const [, base] = await waitForLine(server, /listening on (\S+)\n/);
  const headers = { Authorization: `Bearer ${token}` };
  for (const key of keys) assert.equal((await fetch(`${base}/files/${key}`, { headers })).status, 200);
  server.kill('SIGTERM');
  await exitOf(server);

  const reopened = await startTestStore({ dataDir: back, storage: undefined });
  try {
    assert.equal(reopened.running.services.store.seq, seq);
    const created = await reopened.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name: 'after' } } });
    assert.equal(created.status, 201);
    assert.equal(reopened.running.services.store.seq, seq + 1);
  } finally {
    await reopened.stop({ keepData: true });
  }
});

test('copy-storage refuses a non-empty target dir and a missing source, and a bad command line is a usage error', async (t) => {
  const dir = await makeTempDir();
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await startTestStore({ dataDir: dir, storage: undefined });
  await store.stop({ keepData: true });
  const url = await (await sharedPostgres()).createDatabase();

  const busy = await outputOf(runCli(['copy-storage', '--from', url, '--to', dir]));
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /already holds records/);
  const missing = await outputOf(runCli(['copy-storage', '--from', join(dir, 'nothing'), '--to', url]));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /there is no store/);
  const usage = await outputOf(runCli(['copy-storage', '--from', dir], { API_STORE_STORAGE_URL: '' }));
  assert.equal(usage.code, 2);
});
