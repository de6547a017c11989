import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { chmod, chown, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { buildBackend, type BuiltBackend } from '../helpers/built-backend.js';
import { exitOf, nextMessage } from '../helpers/backend-process.js';
import { waitForLine } from '../helpers/cli-process.js';
import { pinnedFetch } from '../helpers/pinned-https.js';

let built: BuiltBackend;
let dataDir: string;
before(async () => {
  built = await buildBackend();
  // Every built entry these tests start keeps its code cache in the temp app, not the user's cache folder.
  process.env.API_STORE_CODE_CACHE = built.codeCache;
  dataDir = await mkdtemp(join(tmpdir(), 'api-store-bundle-data-'));
});
after(async () => {
  await built.remove();
  await rm(dataDir, { recursive: true, force: true });
});

test('the bundled CLI starts with plain node, serves the API, stops on SIGTERM and flushes its log', async (t) => {
  const child = spawn(process.execPath, [built.cli, '--server', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on (\S+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  assert.equal((await fetch(`${url}/store`)).status, 200);
  const { token } = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')) as { token: string };
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const created = await fetch(`${url}/files`, { method: 'POST', headers, body: JSON.stringify({ kind: 'Core#Space', info: { name: 'bundled' } }) });
  assert.equal(created.status, 201);
  const { key } = (await created.json()) as { key: string };
  const read = await fetch(`${url}/files/${key}`, { headers });
  assert.equal(read.status, 200);
  assert.equal(((await read.json()) as { info: { name: string } }).info.name, 'bundled');
  const exited = exitOf(child);
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
  // The log is written asynchronously; stopping flushes it, so the last line is there.
  const lines = stderr.trim().split('\n').map((line) => JSON.parse(line) as { msg: string });
  assert.deepEqual([lines[0].msg, lines.at(-1)!.msg], ['listening', 'stopped']);
  assert.ok(lines.some((line) => line.msg === 'request'));
  assert.ok(!stderr.includes(token), 'no token in the log');
});

test('the bundled child entry answers start with ready under child_process.fork', async (t) => {
  // Plain node: without execArgv, fork would pass on the test runner's tsx loader.
  const child = fork(built.child, [], { execArgv: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  t.after(() => child.kill('SIGKILL'));
  const token = createLaunchToken();
  const ready = nextMessage(child, 'ready');
  child.send({ type: 'start', config: { dataDir, token, logLevel: 'silent' } });
  const { port } = await ready;
  const response = await fetch(`http://127.0.0.1:${port}/v1/files`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  const stopped = nextMessage(child, 'stopped');
  child.send({ type: 'shutdown' });
  await stopped;
  assert.equal((await exitOf(child)).code, 0);
});

test('the code the bundle loads on first use works: argon2, the TLS certificate, the proxy client', async (t) => {
  const teamDir = await mkdtemp(join(tmpdir(), 'api-store-bundle-team-'));
  t.after(() => rm(teamDir, { recursive: true, force: true }));
  const { API_STORE_TOKEN: _token, ...env } = process.env;
  const admin = spawn(process.execPath, [built.cli, 'admin', 'create', '--username', 'admin', '--data-dir', teamDir], { env, stdio: ['pipe', 'ignore', 'inherit'] });
  admin.stdin.end('an admin password\n');
  assert.equal((await exitOf(admin)).code, 0);

  const server = spawn(process.execPath, [built.cli, '--server', '--mode', 'multi-user', '--data-dir', teamDir, '--port', '0', '--log-level', 'silent'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => server.kill('SIGKILL'));
  let stdout = '';
  const [url, fingerprint] = await new Promise<[string, string]>((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on (\S+)\n[\s\S]*fingerprint: (\S+)\n/.exec(stdout);
      if (match) resolve([match[1], match[2]]);
    });
    server.once('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}`)));
  });
  const session = await pinnedFetch(`${url}/sessions`, fingerprint, { method: 'POST', body: { username: 'admin', password: 'an admin password' } });
  assert.equal(session.status, 201);

  const target = createServer((_request, response) => response.end('proxied'));
  await new Promise<void>((listening) => target.listen(0, '127.0.0.1', listening));
  t.after(() => target.close());
  const { port } = target.address() as AddressInfo;
  const proxied = await pinnedFetch(`${url}/proxy`, fingerprint, {
    method: 'POST',
    token: session.body.token,
    body: { url: `http://127.0.0.1:${port}/`, method: 'GET', headers: [] },
  });
  assert.equal(proxied.status, 200, JSON.stringify(proxied.body));
  assert.deepEqual([proxied.body.response?.status, proxied.body.response?.body], [200, 'proxied']);
});

/**
 * Starts the built CLI with its code cache in `cacheDir`: resolves once it serves, with what its
 * start found in the cache and a promise of the cache's save.
 */
async function startWithCodeCache(t: TestContext, cacheDir: string) {
  const data = await mkdtemp(join(tmpdir(), 'api-store-code-cache-data-'));
  const child = spawn(process.execPath, [built.cli, '--server', '--data-dir', data, '--port', '0', '--log-level', 'debug'], {
    env: { ...process.env, API_STORE_CODE_CACHE: cacheDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(async () => {
    child.kill('SIGKILL');
    await rm(data, { recursive: true, force: true });
  });
  const found = waitForLine(child, /"status":"(\w+)","msg":"startup code cache"/, 'stderr');
  const saved = waitForLine(child, /"msg":"startup code cache saved"/, 'stderr');
  const notSaved = waitForLine(child, /"msg":"startup code cache not saved"/, 'stderr');
  saved.catch(() => {});
  notSaved.catch(() => {});
  const [, url] = await waitForLine(child, /listening on (\S+)/);
  const { token } = JSON.parse(await readFile(join(data, 'server.json'), 'utf8')) as { token: string };
  return { url, token, status: (await found)[1], saved, notSaved };
}

const cacheFiles = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith('.bin'));

test('the built CLI caches the code its start compiled, and the next start runs from that cache, first-use code included', async (t) => {
  const cacheDir = join(built.app, 'cache-reused');
  const first = await startWithCodeCache(t, cacheDir);
  assert.equal(first.status, 'missing');
  await first.saved;
  const [file] = await cacheFiles(cacheDir);
  assert.match(file, /^cli-[0-9a-f]{16}-v8-.+\.bin$/);
  if (process.platform !== 'win32') {
    assert.equal((await stat(cacheDir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(cacheDir, file))).mode & 0o777, 0o600);
  }

  const second = await startWithCodeCache(t, cacheDir);
  assert.equal(second.status, 'used');
  const headers = { Authorization: `Bearer ${second.token}` };
  assert.equal((await fetch(`${second.url}/store`, { headers })).status, 200);
  // The YAML and cURL parsers load on first use, from code that came out of the cache.
  const yaml = 'openapi: 3.0.0\ninfo: {title: cached, version: "1"}\npaths:\n  /a:\n    get: {responses: {"200": {description: ok}}}\n';
  const fromYaml = await fetch(`${second.url}/import`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/yaml' }, body: yaml });
  assert.equal(fromYaml.status, 201, await fromYaml.clone().text());
  const fromCurl = await fetch(`${second.url}/import`, { method: 'POST', headers: { ...headers, 'Content-Type': 'text/plain' }, body: 'curl http://127.0.0.1/cached' });
  assert.equal(fromCurl.status, 201, await fromCurl.clone().text());
  assert.deepEqual(await cacheFiles(cacheDir), [file]);
});

test('a code cache V8 cannot use is rejected, the store starts without it and writes a new one', async (t) => {
  const cacheDir = join(built.app, 'cache-broken');
  await (await startWithCodeCache(t, cacheDir)).saved;
  const [file] = await cacheFiles(cacheDir);
  await writeFile(join(cacheDir, file), 'not code', { mode: 0o600 });
  const started = await startWithCodeCache(t, cacheDir);
  assert.equal(started.status, 'rejected');
  assert.equal((await fetch(`${started.url}/store`)).status, 200);
  await started.saved;
  assert.notEqual(await readFile(join(cacheDir, file), 'utf8'), 'not code');
});

test('a cache folder the store cannot use does not keep it from starting', async (t) => {
  const notAFolder = join(built.app, 'cache-not-a-folder');
  await writeFile(notAFolder, '');
  const started = await startWithCodeCache(t, notAFolder);
  assert.equal(started.status, 'unreadable');
  assert.equal((await fetch(`${started.url}/store`)).status, 200);
  await started.notSaved;
});

test('a code cache another local user could have planted is not run, and is replaced by the store\'s own', { skip: process.platform === 'win32' && 'modes and links: POSIX' }, async (t) => {
  const source = join(built.app, 'cache-source');
  await (await startWithCodeCache(t, source)).saved;
  const [file] = await cacheFiles(source);
  const plant = async (name: string, how: (path: string) => Promise<void>) => {
    const cacheDir = join(built.app, `cache-${name}`);
    await mkdir(cacheDir, { mode: 0o700 });
    await how(join(cacheDir, file));
    return cacheDir;
  };
  const planted = [
    // A cache another user can write: its code could be theirs.
    await plant('writable', async (path) => {
      await copyFile(join(source, file), path);
      await chmod(path, 0o666);
    }),
    // A link to a cache elsewhere, where the attacker controls what it points to.
    await plant('link', (path) => symlink(join(source, file), path)),
  ];
  if (process.getuid?.() === 0) {
    planted.push(
      await plant('foreign', async (path) => {
        await copyFile(join(source, file), path);
        await chown(path, 1, 1);
      }),
    );
  }
  for (const cacheDir of planted) {
    const started = await startWithCodeCache(t, cacheDir);
    assert.equal(started.status, 'refused', cacheDir);
    await started.saved;
    const replaced = await lstat(join(cacheDir, file));
    assert.ok(replaced.isFile(), cacheDir);
    assert.equal(replaced.mode & 0o777, 0o600, cacheDir);
    assert.equal(replaced.uid, process.getuid?.(), cacheDir);
  }
});
