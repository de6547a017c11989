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
  for (const flag of ['--server', '--host', '--port', '--data-dir', '--prefix', '--durability', '--log-level', '--allow-origin', '--max-body-mb', '--max-media-mb', '--help']) {
    assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
  }
  const bad = await outputOf(runCli(['--server', '--port', 'eighty']));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port/);
});

test('--allow-origin lets a page of that origin call the loopback listener; --max-body-mb and --max-media-mb set the body caps', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const token = 'y'.repeat(40);
  const args = ['--server', '--data-dir', dataDir, '--log-level', 'silent', '--allow-origin', 'http://localhost:3000', '--allow-origin', 'http://127.0.0.1:5173'];
  const server = runCli([...args, '--max-body-mb', '0.01', '--max-media-mb', '0.02'], { API_STORE_TOKEN: token });
  t.after(() => server.kill('SIGKILL'));
  const [, url] = await waitForLine(server, /listening on (\S+)\n/);
  const auth = { Authorization: `Bearer ${token}` };

  for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173']) {
    const allowed = await fetch(`${url}/files`, { headers: { ...auth, Origin: origin } });
    assert.equal(allowed.status, 200, origin);
    assert.equal(allowed.headers.get('Access-Control-Allow-Origin'), origin);
    const preflight = await fetch(`${url}/files`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PATCH' } });
    assert.equal(preflight.headers.get('Access-Control-Allow-Origin'), origin);
  }
  const other = await fetch(`${url}/files`, { headers: { ...auth, Origin: 'http://localhost:3001' } });
  assert.equal(other.status, 403);
  assert.equal(((await other.json()) as { code: string }).code, 'forbidden_origin');

  const post = (path: string, bytes: number) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ meta: { kind: 'Core#Note', info: { name: 'n' } }, media: 'x'.repeat(bytes) }) });
  const metadataCap = Math.floor(0.01 * 1024 * 1024);
  const tooLarge = await post('/files', metadataCap);
  assert.equal(tooLarge.status, 413);
  assert.match(((await tooLarge.json()) as { detail: string }).detail, new RegExp(`${metadataCap} bytes`));
  assert.equal((await post('/files?alt=media', metadataCap)).status, 201, 'contents take the larger media cap');
  assert.equal((await post('/files?alt=media', Math.floor(0.02 * 1024 * 1024))).status, 413);
  server.kill('SIGTERM');
  await once(server, 'exit');

  for (const [flag, value] of [['--allow-origin', 'localhost:3000/path'], ['--max-body-mb', '0'], ['--max-media-mb', 'lots']]) {
    const bad = await outputOf(runCli(['--server', '--data-dir', dataDir, flag, value]));
    assert.equal(bad.code, 2, `${flag} ${value}`);
    assert.ok(bad.stderr.includes(flag), bad.stderr);
  }
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
