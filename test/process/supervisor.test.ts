import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { storeConnection } from '../../main/connection.js';
import { connectionBroadcaster, type PageContents } from '../../main/ipc.js';
import { quitHandshake } from '../../main/lifecycle.js';
import { Supervisor, type SupervisorState } from '../../main/supervisor.js';
import type { StoreConnection } from '../../preload/api.js';
import { childProcessForker, reap } from '../helpers/child-backend.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { untilState as until } from '../helpers/supervisor-state.js';

const tempDirs: string[] = [];
const forkers: ReturnType<typeof childProcessForker>[] = [];
after(async () => {
  for (const forker of forkers) reap(forker.children);
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'api-store-supervisor-'));
  tempDirs.push(dir);
  return dir;
}


/** A supervisor on the real backend, wired to a broadcaster that tells one stand-in app window. */
async function supervise(options: { dataDir?: string; entry?: URL; maxCrashes?: number; lan?: object } = {}) {
  const fork = childProcessForker(options.entry);
  forkers.push(fork);
  const clock = new ManualClock();
  const token = createLaunchToken();
  const config = { dataDir: options.dataDir ?? join(await tempDir(), 'store'), token, logLevel: 'silent' as const, lan: options.lan };
  const supervisor = new Supervisor({
    fork,
    config,
    clock,
    restartPolicy: { firstDelayMs: 100, maxDelayMs: 1000, maxCrashes: options.maxCrashes ?? 5, windowMs: 60_000 },
    startTimeoutMs: 20_000,
    stopTimeoutMs: 3000,
  });
  const told: (StoreConnection | null)[] = [];
  const window: PageContents = { getURL: () => 'app://renderer/index.html', send: (_channel: string, connection: StoreConnection | null) => void told.push(connection) };
  const broadcast = connectionBroadcaster(() => [window]);
  supervisor.onChange((state) => broadcast(storeConnection(state, { host: '127.0.0.1', prefix: '/v1', token })));
  return { supervisor, fork, clock, told, token };
}

async function storeInfo(connection: StoreConnection | null) {
  assert.ok(connection);
  const response = await fetch(`${connection.baseUrl}/store`, { headers: { Authorization: `Bearer ${connection.token}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as { mode: string };
}

test('the supervisor starts the real backend and tells the windows how to reach it', async () => {
  const { supervisor, told, token } = await supervise();
  supervisor.start();
  const running = await until(supervisor, (s) => s.status === 'running');
  assert.ok(running.port && running.port > 0);
  const connection = told.at(-1) ?? null;
  assert.deepEqual(connection, {
    baseUrl: `http://127.0.0.1:${running.port}/v1`,
    wsUrl: `ws://127.0.0.1:${running.port}/v1/events`,
    token,
    lan: { enabled: false },
  });
  assert.equal((await storeInfo(connection)).mode, 'single-user');
  assert.equal(await supervisor.stop(), 'stopped');
});

test('after kill -9 the backend is restarted on the same data and the new connection is broadcast', async () => {
  const { supervisor, fork, clock, told } = await supervise();
  supervisor.start();
  await until(supervisor, (s) => s.status === 'running');
  const firstConnection = told.at(-1);

  fork.children[0].kill('SIGKILL');
  const restarting = await until(supervisor, (s) => s.status === 'restarting');
  assert.match(restarting.error ?? '', /exited unexpectedly/);
  assert.equal(told.at(-1), null, 'windows hear that the store is down');
  assert.deepEqual(clock.pending, [100], 'one restart is scheduled after the first back-off delay');

  clock.fireNext();
  const second = await until(supervisor, (s) => s.status === 'running');
  assert.equal(fork.children.length, 2);
  assert.ok(second.port);
  const secondConnection = told.at(-1) ?? null;
  assert.notEqual(secondConnection, firstConnection);
  assert.equal(secondConnection?.baseUrl, `http://127.0.0.1:${second.port}/v1`);
  await storeInfo(secondConnection);
  assert.equal(await supervisor.stop(), 'stopped');
});

test('after repeated crashes the supervisor gives up with a visible error', async () => {
  // A regular file where the data dir's parent should be: the real backend reports fatal and exits.
  const blocker = join(await tempDir(), 'not-a-folder');
  await writeFile(blocker, '');
  const { supervisor, fork, clock, told } = await supervise({ dataDir: join(blocker, 'store'), maxCrashes: 3 });
  supervisor.start();

  const delays: number[] = [];
  for (let crash = 1; crash < 3; crash++) {
    const restarting = await until(supervisor, (s) => s.status === 'restarting');
    assert.match(restarting.error ?? '', /could not start/);
    delays.push(...clock.pending);
    clock.fireNext();
    await until(supervisor, (s) => s.status === 'starting');
  }
  const failed = await until(supervisor, (s) => s.status === 'error');
  assert.deepEqual(delays, [100, 200], 'each restart waits twice as long');
  assert.match(failed.error ?? '', /failed repeatedly.*could not start/);
  assert.deepEqual(clock.pending, [], 'no further restart is scheduled');
  assert.equal(fork.children.length, 3);
  assert.ok(told.every((connection) => connection === null), 'no window was given a connection');
  assert.equal(await supervisor.stop(), 'stopped');
});

test('quitting the app waits for the backend to stop cleanly', async () => {
  const { supervisor, fork, clock } = await supervise();
  supervisor.start();
  await until(supervisor, (s) => s.status === 'running');

  let quit!: () => void;
  const quitCalled = new Promise<void>((resolve) => (quit = resolve));
  const app = Object.assign(new EventEmitter(), { quit });
  app.on('before-quit', quitHandshake(app as never, supervisor));
  let prevented = 0;
  app.emit('before-quit', { preventDefault: () => void prevented++ });
  assert.equal(prevented, 1, 'the first quit is held');
  assert.equal(supervisor.state.status, 'stopping');
  assert.deepEqual(clock.pending, [3000], 'a kill is scheduled in case the backend hangs');

  await until(supervisor, (s) => s.status === 'stopped');
  const exit = await new Promise<number | null>((resolve) => {
    const child = fork.children[0];
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', resolve);
  });
  assert.equal(exit, 0);
  assert.equal(await supervisor.stop(), 'stopped', 'the backend said it stopped');
  await quitCalled; // then quitting resumes
  assert.deepEqual(clock.pending, [], 'the kill timer was cancelled');
  app.emit('before-quit', { preventDefault: () => void prevented++ });
  assert.equal(prevented, 1, 'the second quit goes through');
});

/** A backend stand-in that never answers: neither `ready` nor `stopped`. */
async function silentBackend(): Promise<URL> {
  const file = join(await tempDir(), 'silent-backend.mjs');
  await writeFile(file, "process.on('message', () => {});\nsetInterval(() => {}, 1 << 30);\n");
  return pathToFileURL(file);
}

test('a backend that never gets ready is killed and counts as a crash', async () => {
  const { supervisor, clock } = await supervise({ entry: await silentBackend() });
  supervisor.start();
  assert.deepEqual(clock.pending, [20_000]);
  clock.fireNext();
  const restarting = await until(supervisor, (s) => s.status === 'restarting');
  assert.equal(restarting.error, 'The store did not start within 20 s.');
  assert.deepEqual(clock.pending, [100]);
  assert.equal(await supervisor.stop(), 'stopped');
});

test('a backend that ignores shutdown is killed when the stop timeout fires', async () => {
  const { supervisor, clock } = await supervise({ entry: await silentBackend() });
  supervisor.start();
  const result = supervisor.stop();
  assert.deepEqual(clock.pending, [3000]);
  clock.fireNext();
  assert.equal(await result, 'killed');
  assert.equal(supervisor.state.status, 'stopped');
});

test('LAN sharing follows lan-status, reaches the windows, and is switched on again after a restart', async () => {
  // The "LAN" of this test is a loopback address; discovery off, so nothing is multicast.
  const { supervisor, fork, clock, told } = await supervise({ lan: { host: '127.0.0.2', port: 0, discovery: false } });
  supervisor.start();
  await until(supervisor, (s) => s.status === 'running');

  supervisor.setLan(true);
  const sharing = await until(supervisor, (s) => s.lan.enabled);
  assert.match(sharing.lan.url ?? '', /^https:\/\/127\.0\.0\.2:\d+\/v1$/);
  assert.match(sharing.lan.fingerprint ?? '', /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/i);
  assert.deepEqual(told.at(-1)?.lan, sharing.lan, 'windows are told the LAN address');

  fork.children[0].kill('SIGKILL');
  await until(supervisor, (s) => s.status === 'restarting');
  assert.equal(supervisor.state.lan.enabled, false);
  clock.fireNext();
  await until(supervisor, (s) => s.status === 'running');
  const again = await until(supervisor, (s) => s.lan.enabled);
  assert.equal(again.lan.fingerprint, sharing.lan.fingerprint, 'same certificate, same data dir');

  supervisor.setLan(false);
  await until(supervisor, (s) => !s.lan.enabled);
  assert.equal(supervisor.state.lan.error, undefined);
  assert.equal(await supervisor.stop(), 'stopped');
});

test('stopping while a restart is pending cancels the restart', async () => {
  const { supervisor, fork, clock } = await supervise();
  supervisor.start();
  await until(supervisor, (s) => s.status === 'running');
  fork.children[0].kill('SIGKILL');
  await until(supervisor, (s) => s.status === 'restarting');
  assert.equal(clock.pending.length, 1);

  assert.equal(await supervisor.stop(), 'stopped');
  assert.equal(supervisor.state.status, 'stopped');
  assert.deepEqual(clock.pending, []);
  assert.equal(fork.children.length, 1, 'no new backend was started');
});

test('a config the backend would refuse is refused before anything is forked', () => {
  const fork = childProcessForker();
  assert.throws(() => new Supervisor({ fork, config: { dataDir: '/tmp/x', token: 'too-short' } }), /token/);
  assert.equal(fork.children.length, 0);
});
