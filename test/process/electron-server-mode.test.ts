import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseServerArgs } from '../../backend/src/cli-args.js';
import { appArgv, wantsServerMode } from '../../main/server-mode.js';
import { makeTempDir } from '../helpers/store.js';

let dir: string;
let entry: string;
before(async () => {
  dir = await makeTempDir('api-store-server-mode-');
  // Stands in for main/index.ts under `electron . --server`: with node, argv is laid out the same
  // way (executable, script in place of the app path, then the app's arguments).
  entry = join(dir, 'electron-like-main.mts');
  const serverMode = new URL('../../main/server-mode.ts', import.meta.url).href;
  await writeFile(entry, `import { appArgv, runServerMode } from '${serverMode}';\nawait runServerMode(appArgv(process.argv, true));\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

test('`electron . --server` and the packaged app hand the CLI parser the same flags', () => {
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

function runHeadless(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output.stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output.stderr += text));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, output, exited };
}

/** Resolves once stdout contains `text`; rejects if the process exits first. */
function printed(run: ReturnType<typeof runHeadless>, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!run.output.stdout.includes(text)) return;
      cleanup();
      resolve();
    };
    const exitedEarly = () => {
      cleanup();
      reject(new Error(`exited before printing "${text}": ${run.output.stderr}`));
    };
    const cleanup = () => {
      run.child.stdout.off('data', check);
      run.child.off('exit', exitedEarly);
    };
    run.child.stdout.on('data', check);
    run.child.once('exit', exitedEarly);
    check();
  });
}

test('--server runs the store headless, prints where it is, and stops cleanly on SIGTERM', async () => {
  const dataDir = join(dir, 'data');
  const run = runHeadless(['--server', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent']);
  const infoFile = join(dataDir, 'server.json');
  await printed(run, 'token:');
  const url = /listening on (\S+)/.exec(run.output.stdout)?.[1];
  assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  assert.match(run.output.stdout, new RegExp(`token: in ${infoFile}`));
  assert.equal((await stat(infoFile)).mode & 0o777, 0o600);
  const { token } = JSON.parse(await readFile(infoFile, 'utf8')) as { token: string };
  assert.ok(!run.output.stdout.includes(token), 'the token is not printed');

  const response = await fetch(`${url}/store`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { mode: string }).mode, 'single-user');

  run.child.kill('SIGTERM');
  assert.deepEqual(await run.exited, [0, null]);
  await assert.rejects(stat(infoFile), { code: 'ENOENT' });
});

test('--help prints the CLI\'s help; a bad flag is a usage error', async () => {
  const help = runHeadless(['--server', '--help']);
  assert.deepEqual(await help.exited, [0, null]);
  assert.match(help.output.stdout, /--data-dir <path>/);

  const bad = runHeadless(['--server', '--port', 'eighty']);
  assert.deepEqual(await bad.exited, [2, null]);
  assert.match(bad.output.stderr, /--port must be a number/);
});
