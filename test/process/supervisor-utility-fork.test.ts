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
  );
  const backend = fork();
  assert.deepEqual(forks, [{ modulePath: '/app/out/backend/child.js', args: [], options: { serviceName: 'api-store backend', stdio: 'pipe' } }]);
  assert.ok(!('env' in (forks[0].options ?? {})), 'no env: nothing secret can travel there');

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
  const backend = utilityProcessForker(() => child as never, 'entry.js', new PassThrough())();
  const exited = new Promise<NodeJS.Signals | null>((resolve) => real.once('exit', (_code, signal) => resolve(signal)));
  backend.kill();
  assert.equal(await exited, 'SIGKILL');
  assert.equal(child.killed, false);
  backend.kill(); // already gone: no throw
});
