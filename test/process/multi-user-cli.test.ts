import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { test } from 'node:test';
import { exitOf } from '../helpers/backend-process.js';
import { pinnedFetch } from '../helpers/pinned-https.js';
import { makeTempDir } from '../helpers/store.js';

// The source through tsx: bin/api-store.js would prefer a compiled out/ that may be older.
const cli = new URL('../../backend/src/cli.ts', import.meta.url).pathname;

/** The CLI as a real process; its output is collected as it comes. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { API_STORE_TOKEN: _a, API_STORE_SESSION_SECRET: _b, API_STORE_OIDC_CLIENT_SECRET: _c, ...rest } = process.env;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { env: { ...rest, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk) => (output.stdout += chunk));
  child.stderr!.on('data', (chunk) => (output.stderr += chunk));
  /** Resolves once stdout matches; rejects if the process exits first. */
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.stdout.match(pattern);
        if (match) {
          child.stdout!.off('data', check);
          resolve(match);
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${pattern}: ${output.stdout}${output.stderr}`)));
      check();
    });
  const done = async () => ({ ...(await exitOf(child)), ...output });
  return { child, output, waitFor, done };
}

test('--help documents the multi-user mode and its flags', async () => {
  const help = await runCli(['--help']).done();
  assert.equal(help.code, 0);
  for (const flag of ['mode "multi-user"', 'admin create', '--mode', '--auth-type', '--oidc-issuer-uri', '--oidc-client-secret', '--session-secret', '--insecure-http']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const bad = await runCli(['mode', 'many-users']).done();
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /single-user or multi-user/);
  const incomplete = await runCli(['--server', '--mode', 'multi-user', '--auth-type', 'oidc', '--oidc-issuer-uri', 'http://127.0.0.1:9/']).done();
  assert.equal(incomplete.code, 2);
  assert.match(incomplete.stderr, /--oidc-client-id: /, 'errors name the flag to fix');
});

test('admin create (password on stdin), then `api-store mode "multi-user"` over TLS: the admin signs in and invites', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));

  const admin = runCli(['admin', 'create', '--username', 'admin', '--name', 'The Admin', '--data-dir', dataDir]);
  admin.child.stdin!.end('an admin password\n');
  const created = await admin.done();
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /admin admin created/);

  const shortPassword = runCli(['admin', 'create', '--username', 'other', '--data-dir', dataDir]);
  shortPassword.child.stdin!.end('short\n');
  const refused = await shortPassword.done();
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /at least 8/);

  const secret = 's'.repeat(40);
  const server = runCli(['mode', 'multi-user', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--auth-type', 'local', '--session-secret', secret, '--log-level', 'silent']);
  t.after(() => server.child.kill('SIGKILL'));
  const [, url] = await server.waitFor(/listening on (https:\/\/127\.0\.0\.1:\d+\/v1)\n/);
  const [, fingerprint] = await server.waitFor(/fingerprint: (\S+)\n/);
  assert.match(server.output.stderr, /--session-secret is visible to other users/);
  assert.ok(!(await readFile(`${dataDir}/server.json`, 'utf8')).includes('token'), 'no launch token in multi-user mode');

  const info = await pinnedFetch(`${url}/store`, fingerprint);
  assert.equal(info.body.mode, 'multi-user');
  const login = await pinnedFetch(`${url}/sessions`, fingerprint, { method: 'POST', body: { username: 'admin', password: 'an admin password' } });
  assert.equal(login.status, 201);
  assert.equal(login.body.user.admin, true);
  const invite = await pinnedFetch(`${url}/auth/invites`, fingerprint, { method: 'POST', token: login.body.token });
  assert.equal(invite.status, 201, 'the admin administers a headless store over its own listener');

  server.child.kill('SIGTERM');
  assert.equal((await server.done()).code, 0);
});

test('--server --mode multi-user --insecure-http serves plain HTTP', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const server = runCli(['--server', '--mode', 'multi-user', '--insecure-http', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'silent']);
  t.after(() => server.child.kill('SIGKILL'));
  const [, url] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+\/v1)\n/);
  const info = (await (await fetch(`${url}/store`)).json()) as { mode: string };
  assert.equal(info.mode, 'multi-user');
  assert.equal((await fetch(`${url}/users`)).status, 401);
  server.child.kill('SIGTERM');
  assert.equal((await server.done()).code, 0);
});
