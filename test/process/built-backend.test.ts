import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { buildBackend, type BuiltBackend } from '../helpers/built-backend.js';
import { exitOf, nextMessage } from '../helpers/backend-process.js';
import { pinnedFetch } from '../helpers/pinned-https.js';

let built: BuiltBackend;
let dataDir: string;
before(async () => {
  built = await buildBackend();
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

test('the code the bundle loads on first use works from its chunks: argon2, the TLS certificate, the proxy client', async (t) => {
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
