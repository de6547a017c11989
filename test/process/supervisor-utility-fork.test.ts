import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { utilityProcessForker } from '../../main/utility-backend.js';

/** Electron's UtilityProcess as far as the adapter uses it: events, postMessage, pid, kill, stdio. */
class StandInUtilityProcess extends EventEmitter {
  readonly posted: unknown[] = [];
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  killed = false;
  constructor(readonly pid: number | undefined) {
    super();
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  kill(): boolean {
    this.killed = true;
    return true;
  }
}

test('the utility-process adapter forks the entry with piped output and relays messages and exit', async () => {
  const forks: { modulePath: string; args?: string[]; options?: object }[] = [];
  const child = new StandInUtilityProcess(undefined);
  const log = new PassThrough();
  const fork = utilityProcessForker(
    (modulePath, args, options) => {
      forks.push({ modulePath, args, options });
      return child as never;
    },
    '/app/out/backend/child.js',
    log,
    { PATH: '/usr/bin', HOME: '/home/me', NODE_OPTIONS: '--require /tmp/evil.js', NODE_PATH: '/tmp/evil', ELECTRON_RUN_AS_NODE: '1', LANG: 'C' },
  );
  const backend = fork();
  assert.deepEqual(forks, [
    {
      modulePath: '/app/out/backend/child.js',
      args: [],
      // The app's environment without the variables that make Node load code; nothing secret in it.
      options: { serviceName: 'api-store backend', stdio: 'pipe', env: { PATH: '/usr/bin', HOME: '/home/me', LANG: 'C' } },
    },
  ]);

  backend.send({ type: 'shutdown' });
  assert.deepEqual(child.posted, [{ type: 'shutdown' }]);

  const messages: unknown[] = [];
  const exits: (number | null)[] = [];
  backend.onMessage((data) => messages.push(data));
  backend.onExit((code) => exits.push(code));
  child.emit('message', { type: 'stopped' });
  child.emit('exit', 0);
  child.emit('exit', 0);
  assert.deepEqual(messages, [{ type: 'stopped' }]);
  assert.deepEqual(exits, [0], 'exit is reported once');

  const logged = new Promise<string>((resolve) => log.once('data', (chunk) => resolve(String(chunk))));
  child.stderr.write('{"level":"info","msg":"listening"}\n');
  assert.equal(await logged, '{"level":"info","msg":"listening"}\n');

  backend.kill();
  assert.equal(child.killed, true, 'before it has a pid, UtilityProcess.kill() is all there is');
});

test('kill() ends a live process with SIGKILL, not the SIGTERM that UtilityProcess.kill() sends', async () => {
  // A real process that would survive SIGTERM: only SIGKILL ends it.
  const real = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1 << 30); process.stdout.write('up')"], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve) => real.stdout.once('data', resolve));
  const child = new StandInUtilityProcess(real.pid);
  const backend = utilityProcessForker(() => child as never, 'entry.js', new PassThrough(), {})();
  const exited = new Promise<NodeJS.Signals | null>((resolve) => real.once('exit', (_code, signal) => resolve(signal)));
  backend.kill();
  assert.equal(await exited, 'SIGKILL');
  assert.equal(child.killed, false);
  backend.kill(); // already gone: no throw
});

test('a real child started with the forker\'s environment runs no NODE_OPTIONS code of the parent\'s environment', async () => {
  const planted = { ...process.env, NODE_OPTIONS: '--require ./not-the-app.cjs', ELECTRON_RUN_AS_NODE: '1' };
  let seen = '';
  const backend = utilityProcessForker(
    (_entry, _args, options) => {
      // Node as the stand-in for the utility process: it would refuse to start with that NODE_OPTIONS.
      const real = spawn(process.execPath, ['-e', "process.stdout.write(JSON.stringify([process.env.NODE_OPTIONS ?? null, process.env.ELECTRON_RUN_AS_NODE ?? null]))"], { env: options?.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      real.stdout.on('data', (chunk) => (seen += chunk));
      const child = new StandInUtilityProcess(real.pid);
      real.once('exit', (code) => child.emit('exit', code));
      return child as never;
    },
    'entry.js',
    new PassThrough(),
    planted,
  )();
  const code = await new Promise<number | null>((resolve) => backend.onExit(resolve));
  assert.equal(code, 0);
  assert.equal(seen, '[null,null]');
});
