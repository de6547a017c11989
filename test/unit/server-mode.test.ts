import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseServerArgs } from '../../backend/src/cli-args.js';
import { appArgv, runServerMode, wantsServerMode } from '../../main/server-mode.js';
import { makeTempDir } from '../helpers/store.js';

const tempDirs: string[] = [];
after(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

test('`electron . --server` and the packaged app pass the same flags to the CLI parser', () => {
  const flags = ['--server', '--port', '8080', '--host', '127.0.0.1', '--data-dir', '/srv/store'];
  const dev = appArgv(['/usr/lib/electron/electron', '.', ...flags], true);
  const packaged = appArgv(['/opt/api-store/api-store', ...flags], false);
  assert.deepEqual(dev, flags);
  assert.deepEqual(packaged, flags);
  assert.equal(wantsServerMode(dev), true);
  assert.equal(wantsServerMode(appArgv(['/opt/api-store/api-store'], false)), false);
  const parsed = parseServerArgs(dev, {});
  assert.equal(parsed.server, true);
  assert.equal(parsed.config.dataDir, '/srv/store');
  assert.equal(parsed.config.host, '127.0.0.1');
  assert.equal(parsed.config.port, 8080);
});

/** runServerMode with stand-ins for the app (exit) and the process (signals, output). */
function headless(args: string[], env: NodeJS.ProcessEnv = {}) {
  let exited!: (code: number) => void;
  const exitCode = new Promise<number>((resolve) => (exited = resolve));
  const app = { exit: (code?: number) => exited(code ?? 0) };
  const output = { stdout: '', stderr: '' };
  const signals = new EventEmitter();
  const started = runServerMode(app, args, {
    env,
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    signals,
  });
  return { exitCode, output, signals, started };
}

test('--server runs the store headless, prints where it is, and stops on SIGTERM', async () => {
  const dataDir = await makeTempDir();
  tempDirs.push(dataDir);
  const run = headless(['--server', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent']);
  await run.started;
  const url = /listening on (\S+)/.exec(run.output.stdout)?.[1];
  assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  const infoFile = join(dataDir, 'server.json');
  assert.match(run.output.stdout, new RegExp(`token: in ${infoFile}`));
  assert.equal((await stat(infoFile)).mode & 0o777, 0o600);
  const { token } = JSON.parse(await readFile(infoFile, 'utf8')) as { token: string };
  assert.doesNotMatch(run.output.stdout, new RegExp(token), 'the token is not printed');

  const response = await fetch(`${url}/store`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { mode: string }).mode, 'single-user');

  run.signals.emit('SIGTERM');
  assert.equal(await run.exitCode, 0);
  await assert.rejects(stat(infoFile), { code: 'ENOENT' });
});

test('--help prints the shared help; a bad flag is a usage error', async () => {
  const help = headless(['--server', '--help']);
  assert.equal(await help.exitCode, 0);
  assert.match(help.output.stdout, /--data-dir <path>/);

  const bad = headless(['--server', '--port', 'eighty']);
  assert.equal(await bad.exitCode, 2);
  assert.match(bad.output.stderr, /--port must be a number/);
});
