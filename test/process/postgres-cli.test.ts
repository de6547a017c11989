import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { parseServerArgs } from '../../backend/src/cli-args.js';
import { exitOf } from '../helpers/backend-process.js';
import { bin, outputOf, runCli, waitForLine } from '../helpers/cli-process.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/store.js';

const password = 'pg-password-never-printed';
/** The test server trusts local connections, so a password in the URL is accepted and ignored. */
const withPassword = (url: string) => url.replace('api_store@', `api_store:${password}@`);

test('API_STORE_STORAGE_URL puts the records in PostgreSQL: GET /store says so, the password appears in no output, a restart finds the records', async (t) => {
  const url = withPassword(await (await sharedPostgres()).createDatabase());
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const token = 'p'.repeat(43);
  const start = () => runCli(['--server', '--data-dir', dataDir, '--log-level', 'debug'], { API_STORE_TOKEN: token, API_STORE_STORAGE_URL: url });
  const server = start();
  t.after(() => server.kill('SIGKILL'));
  const printed = outputOf(server);
  const [, base] = await waitForLine(server, /listening on (\S+)\n/);
  const info = (await (await fetch(`${base}/store`)).json()) as { storage: string };
  assert.equal(info.storage, 'postgres');
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const created = await fetch(`${base}/files`, { method: 'POST', headers, body: JSON.stringify({ kind: 'Core#Note', info: { name: 'kept in PostgreSQL' } }) });
  assert.equal(created.status, 201);
  const { key } = (await created.json()) as { key: string };
  server.kill('SIGTERM');
  const first = await printed;
  assert.equal(first.code, 0);
  assert.ok(!`${first.stdout}${first.stderr}`.includes(password), 'the password is never printed or logged');

  const again = start();
  t.after(() => again.kill('SIGKILL'));
  const [, base2] = await waitForLine(again, /listening on (\S+)\n/);
  const read = await fetch(`${base2}/files/${key}`, { headers });
  assert.equal(read.status, 200);
  assert.equal(((await read.json()) as { info: { name: string } }).info.name, 'kept in PostgreSQL');
  again.kill('SIGTERM');
  assert.equal((await exitOf(again)).code, 0);
});

test('LevelDB stays the default: GET /store reports leveldb', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const server = runCli(['--server', '--data-dir', dataDir, '--log-level', 'silent']);
  t.after(() => server.kill('SIGKILL'));
  const [, base] = await waitForLine(server, /listening on (\S+)\n/);
  assert.equal(((await (await fetch(`${base}/store`)).json()) as { storage: string }).storage, 'leveldb');
  server.kill('SIGTERM');
  await exitOf(server);
});

test('--storage with a password warns to use the environment; a database out of reach fails the start without printing the password', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const args = parseServerArgs(['--server', '--storage', `postgres://user:${password}@127.0.0.1:1/db`], {});
  assert.match(args.warnings.join('\n'), /API_STORE_STORAGE_URL/);
  assert.ok(!args.warnings.join('\n').includes(password));
  assert.deepEqual(parseServerArgs(['--server', '--storage', 'postgres://user@127.0.0.1/db'], {}).warnings, []);
  assert.equal(parseServerArgs(['--server'], { API_STORE_STORAGE_URL: 'postgres://h/db' }).config.storage, 'postgres://h/db');

  const refused = await outputOf(runCli(['--server', '--data-dir', dataDir, '--storage', `postgres://user:${password}@127.0.0.1:1/db`]));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /database is unavailable/);
  assert.ok(!`${refused.stdout}${refused.stderr}`.includes(password));

  const bad = await outputOf(runCli(['--server', '--data-dir', dataDir], { API_STORE_STORAGE_URL: `mysql://user:${password}@host/db` }));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--storage \(or API_STORE_STORAGE_URL\): must be a postgres:\/\/ URL/);
  assert.ok(!bad.stderr.includes(password));
});

test('admin create writes the first admin into the database of API_STORE_STORAGE_URL; a multi-user instance on it signs them in', async (t) => {
  const url = await (await sharedPostgres()).createDatabase();
  const [adminDir, serverDir] = [await makeTempDir(), await makeTempDir()];
  t.after(() => Promise.all([adminDir, serverDir].map((dir) => rm(dir, { recursive: true, force: true }))));
  const admin = spawn(process.execPath, [bin, 'admin', 'create', '--username', 'admin', '--data-dir', adminDir], { env: { ...process.env, API_STORE_STORAGE_URL: url }, stdio: ['pipe', 'pipe', 'pipe'] });
  admin.stdin!.end('an admin password\n');
  const created = await outputOf(admin);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /admin admin created/);

  const server = runCli(['--server', '--mode', 'multi-user', '--insecure-http', '--data-dir', serverDir, '--log-level', 'silent'], { API_STORE_STORAGE_URL: url });
  t.after(() => server.kill('SIGKILL'));
  const [, base] = await waitForLine(server, /listening on (\S+)\n/);
  const signIn = await fetch(`${base}/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'an admin password' }) });
  assert.equal(signIn.status, 201);
  server.kill('SIGTERM');
  await exitOf(server);
});
