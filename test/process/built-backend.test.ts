import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { buildBackend, type BuiltBackend } from '../helpers/built-backend.js';
import { exitOf, nextMessage } from '../helpers/backend-process.js';

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
