import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { test } from 'node:test';
import { parseServerArgs, UsageError } from '../../backend/src/cli-args.js';
import { exitOf } from '../helpers/backend-process.js';
import { outputOf, runCli, waitForLine } from '../helpers/cli-process.js';
import { makeTempDir } from '../helpers/store.js';

test('api-store --server: server.json (0600), open and authenticated routes, a second server on the same dir fails clearly, SIGTERM exits 0', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const server = runCli(['--server', '--data-dir', dataDir, '--log-level', 'silent']);
  t.after(() => server.kill('SIGKILL'));
  const [, url] = await waitForLine(server, /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)\n/);

  const infoPath = `${dataDir}/server.json`;
  assert.equal((await stat(infoPath)).mode & 0o777, 0o600);
  const info = JSON.parse(await readFile(infoPath, 'utf8')) as { url: string; pid: number; token: string };
  assert.equal(info.url, url);
  assert.equal(info.pid, server.pid);
  assert.ok(info.token.length >= 43);

  assert.equal((await fetch(`${url}/store`)).status, 200);
  assert.equal((await fetch(`${url}/openapi.json`)).status, 401);
  assert.equal((await fetch(`${url}/openapi.json`, { headers: { Authorization: `Bearer ${info.token}` } })).status, 200);

  const second = await outputOf(runCli(['--server', '--data-dir', dataDir]));
  assert.equal(second.code, 1);
  assert.match(second.stderr, /in use by another api-store/);
  assert.ok(!second.stderr.includes('    at '), 'no stack trace');

  server.kill('SIGTERM');
  assert.equal((await exitOf(server)).code, 0);
  await assert.rejects(stat(infoPath), 'server.json is removed on a clean stop');
});

test('API_STORE_TOKEN is used when set and not written to server.json', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const token = 'x'.repeat(40);
  const server = runCli(['--server', '--data-dir', dataDir, '--log-level', 'silent'], { API_STORE_TOKEN: token });
  t.after(() => server.kill('SIGKILL'));
  const [, url] = await waitForLine(server, /listening on (\S+)\n/);
  assert.equal((await fetch(`${url}/openapi.json`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  assert.ok(!(await readFile(`${dataDir}/server.json`, 'utf8')).includes(token));
  server.kill('SIGTERM');
  await once(server, 'exit');
});

test('--help documents every flag; a bad flag is a usage error', async () => {
  const help = await outputOf(runCli(['--help']));
  assert.equal(help.code, 0);
  for (const flag of ['--server', '--host', '--port', '--data-dir', '--prefix', '--durability', '--log-level', '--help']) {
    assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
  }
  const bad = await outputOf(runCli(['--server', '--port', 'eighty']));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port/);
});

test('single-user on a host other than loopback is refused without --insecure-http, pointing to multi-user mode', async (t) => {
  for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) assert.equal(parseServerArgs(['--server', '--host', host]).config.host, host);
  for (const host of ['0.0.0.0', '::', '192.168.1.20', 'my-laptop.local']) {
    assert.throws(() => parseServerArgs(['--server', '--host', host]), UsageError, host);
    assert.equal(parseServerArgs(['--server', '--host', host, '--insecure-http']).config.host, host);
    assert.equal(parseServerArgs(['--server', '--mode', 'multi-user', '--host', host]).config.host, host);
  }

  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const refused = await outputOf(runCli(['--server', '--host', '0.0.0.0', '--data-dir', dataDir]));
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--host 0\.0\.0\.0 is not a loopback address/);
  assert.match(refused.stderr, /--mode multi-user/);
  assert.match(refused.stderr, /--insecure-http/);
  assert.deepEqual(await readdir(dataDir), [], 'nothing was started');
});
