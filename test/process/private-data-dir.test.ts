/**
 * The data directory as another local user would attack it: the attacker's steps and the
 * victim's store run as two different unprivileged users (setpriv, which needs root). Uids that
 * belong to nobody on this machine are used, so no account is created.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { exitOf } from '../helpers/backend-process.js';
import { makeTempDir } from '../helpers/store.js';

const attacker = 1234;
const victim = 2000;
const cli = new URL('../../backend/src/cli.ts', import.meta.url).pathname;

const secondUserMissing =
  process.getuid?.() !== 0
    ? 'needs root, to run the attacker and the victim as two other users'
    : spawnSync('setpriv', ['--version']).error
      ? 'needs setpriv (util-linux), to run the attacker and the victim as two other users'
      : false;

/** The two users' temp folder (tsx keeps its cache there), removed with everything in it. */
let scratch: string;
before(async () => {
  scratch = await makeTempDir('api-store-two-users-tmp-');
  await chmod(scratch, 0o1777);
});
after(() => rm(scratch, { recursive: true, force: true }));

/** Runs `args` as `uid` (its own group, no others) and collects its output. */
function runAs(uid: number, args: string[], stdin = '') {
  const { API_STORE_TOKEN: _a, API_STORE_SESSION_SECRET: _b, ...env } = process.env;
  const child = spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...args], { env: { ...env, HOME: '/', TMPDIR: scratch }, stdio: ['pipe', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (output.stdout += chunk));
  child.stderr.on('data', (chunk) => (output.stderr += chunk));
  // A child that exits without reading its input (a short shell script) may close the pipe first.
  child.stdin.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  child.stdin.end(stdin);
  const done = async () => ({ ...(await exitOf(child)), ...output });
  return { child, output, done };
}

const shell = (uid: number, script: string) => runAs(uid, ['sh', '-euc', script]).done();
const store = (uid: number, args: string[], stdin?: string) => runAs(uid, [process.execPath, '--import', 'tsx', cli, ...args], stdin);

/** Runs the victim's command to its end; a store that starts listening instead is stopped, and the test sees it in stdout. */
async function victimRuns(args: string[], stdin?: string) {
  const run = store(victim, args, stdin);
  const listening = new Promise<void>((resolve) => run.child.stdout.on('data', () => run.output.stdout.includes('listening on') && resolve()));
  await Promise.race([exitOf(run.child), listening]);
  run.child.kill('SIGKILL');
  return run.done();
}

/** A shared parent like /tmp (world-writable, sticky), which both users can reach. */
async function sharedParent(t: TestContext): Promise<string> {
  const base = await makeTempDir('api-store-two-users-');
  t.after(() => rm(base, { recursive: true, force: true }));
  await chmod(base, 0o1777);
  return base;
}

/** Every file and folder under `dir` (itself included) with its mode and owner. */
async function walk(dir: string): Promise<{ path: string; mode: number; uid: number }[]> {
  const own = await lstat(dir);
  const entries = [{ path: dir, mode: own.mode & 0o7777, uid: own.uid }];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) entries.push(...(await walk(path)));
    else entries.push({ path, mode: info.mode & 0o7777, uid: info.uid });
  }
  return entries;
}

test('the issue\'s attack: a data dir pre-created by another user, server.json a link to their file; --server refuses and no token leaks', { skip: secondUserMissing }, async (t) => {
  const base = await sharedParent(t);
  const dataDir = join(base, 'store');
  const loot = join(base, 'loot');
  const planted = await shell(attacker, `mkdir -m 777 ${dataDir}; touch ${loot}; chmod 666 ${loot}; ln -s ${loot} ${dataDir}/server.json`);
  assert.equal(planted.code, 0, planted.stderr);

  const started = await victimRuns(['--server', '--data-dir', dataDir, '--log-level', 'silent']);
  assert.equal(started.code, 1, started.stdout + started.stderr);
  assert.match(started.stderr, /belongs to another user \(uid 1234, not 2000\)/);
  assert.ok(!started.stderr.includes('    at '), 'a clear message, no stack trace');
  assert.equal(await readFile(loot, 'utf8'), '', 'no token in the attacker\'s file');
  assert.deepEqual(await readdir(dataDir), ['server.json'], 'nothing written in the attacker\'s folder');

  const admin = await victimRuns(['admin', 'create', '--username', 'admin', '--data-dir', dataDir], 'an admin password\n');
  assert.equal(admin.code, 1, admin.stdout + admin.stderr);
  assert.match(admin.stderr, /belongs to another user/);
  assert.deepEqual(await readdir(dataDir), ['server.json'], 'no LevelDB with the admin\'s hash in the attacker\'s folder');
});

test('a data dir that is a link is refused, whoever owns its target', { skip: secondUserMissing }, async (t) => {
  const base = await sharedParent(t);
  const planted = await shell(attacker, `mkdir -m 777 ${base}/target; ln -s ${base}/target ${base}/store`);
  assert.equal(planted.code, 0, planted.stderr);
  const started = await victimRuns(['--server', '--data-dir', join(base, 'store'), '--log-level', 'silent']);
  assert.equal(started.code, 1);
  assert.match(started.stderr, /is a symbolic link/);
  assert.deepEqual(await readdir(join(base, 'target')), []);
});

test('the victim\'s own loose data dir: tightened to 0700, a planted server.json link replaced, not followed; every file private', { skip: secondUserMissing }, async (t) => {
  const base = await sharedParent(t);
  const dataDir = join(base, 'store');
  await mkdir(dataDir, { mode: 0o777 });
  await chmod(dataDir, 0o777);
  await chown(dataDir, victim, victim);
  const loot = join(base, 'loot');
  const planted = await shell(attacker, `touch ${loot}; chmod 666 ${loot}; ln -s ${loot} ${dataDir}/server.json`);
  assert.equal(planted.code, 0, planted.stderr);

  const server = store(victim, ['--server', '--data-dir', dataDir, '--log-level', 'silent']);
  t.after(() => server.child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    let text = '';
    server.child.stdout.on('data', (chunk) => (text += chunk).includes('listening on') && resolve());
    server.child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  assert.equal(await readFile(loot, 'utf8'), '', 'no token in the attacker\'s file');
  const info = await lstat(join(dataDir, 'server.json'));
  assert.ok(info.isFile(), 'server.json is a file of its own now');
  assert.equal(info.uid, victim);
  assert.equal(info.mode & 0o777, 0o600);

  const entries = await walk(dataDir);
  assert.ok(entries.some((e) => e.path.endsWith('.log')), 'LevelDB wrote its files');
  for (const entry of entries) {
    assert.equal(entry.uid, victim, entry.path);
    assert.equal(entry.mode & 0o077, 0, `${entry.path} is ${entry.mode.toString(8)}: others have access`);
  }
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
  assert.equal((await stat(join(dataDir, 'db'))).mode & 0o777, 0o700);
  // The attacker can no longer even list it.
  assert.notEqual((await shell(attacker, `ls ${dataDir}`)).code, 0);

  server.child.kill('SIGTERM');
  assert.equal((await exitOf(server.child)).code, 0);
});

test('a session key or a TLS key planted by another user in a loose data dir is refused', { skip: secondUserMissing }, async (t) => {
  const cases = [
    { planted: ['session.key'], refused: /session\.key belongs to another user \(uid 1234, not 2000\)/ },
    { planted: ['lan-key.pem', 'lan-cert.pem'], refused: /lan-(key|cert)\.pem belongs to another user \(uid 1234, not 2000\)/ },
  ];
  for (const { planted, refused } of cases) {
    const base = await sharedParent(t);
    const dataDir = join(base, 'store');
    await mkdir(dataDir, { mode: 0o777 });
    await chmod(dataDir, 0o777);
    await chown(dataDir, victim, victim);
    const plant = await shell(attacker, planted.map((file) => `echo attackers-own > ${dataDir}/${file}; chmod 600 ${dataDir}/${file}`).join('; '));
    assert.equal(plant.code, 0, plant.stderr);

    const started = await victimRuns(['--server', '--mode', 'multi-user', '--data-dir', dataDir, '--log-level', 'silent']);
    assert.equal(started.code, 1, started.stdout + started.stderr);
    assert.match(started.stderr, refused);
    assert.ok(!started.stdout.includes('listening'), planted.join());
  }
});

test('admin create makes the data dir private before LevelDB writes the admin\'s password hash', { skip: secondUserMissing }, async (t) => {
  const base = await sharedParent(t);
  const dataDir = join(base, 'new', 'store');
  const admin = await victimRuns(['admin', 'create', '--username', 'admin', '--data-dir', dataDir], 'an admin password\n');
  assert.equal(admin.code, 0, admin.stderr);
  for (const entry of await walk(dataDir)) {
    assert.equal(entry.uid, victim, entry.path);
    assert.equal(entry.mode & 0o077, 0, `${entry.path} is ${entry.mode.toString(8)}: others have access`);
  }
  assert.notEqual((await shell(attacker, `cat ${dataDir}/db/*.log`)).code, 0);
});
