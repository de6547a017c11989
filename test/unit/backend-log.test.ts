import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { configSchema } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import { startStore } from '../../backend/src/server.js';
import { backendLogDefaults, desktopLogLevel, rotatingLog } from '../../main/backend-log.js';
import { makeTempDir } from '../helpers/store.js';

let base: string;
before(async () => (base = await makeTempDir('api-store-log-')));
after(() => rm(base, { recursive: true, force: true }));

async function writeAll(log: ReturnType<typeof rotatingLog>, lines: string[]): Promise<void> {
  for (const line of lines) log.write(line);
  log.end();
  await finished(log);
}

test('the log is 0600 in a 0700 folder, also when an earlier version left them open to others', async () => {
  const dir = join(base, 'loose', 'logs');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'backend.log'), 'old line\n', { mode: 0o644 });
  await chmod(join(dir, 'backend.log'), 0o644);
  await writeAll(rotatingLog({ dir, ...backendLogDefaults }), ['new line\n']);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  assert.equal((await stat(join(dir, 'backend.log'))).mode & 0o777, 0o600);
  assert.equal(await readFile(join(dir, 'backend.log'), 'utf8'), 'old line\nnew line\n');

  const fresh = join(base, 'fresh', 'logs');
  await writeAll(rotatingLog({ dir: fresh, ...backendLogDefaults }), ['a\n']);
  assert.equal((await stat(fresh)).mode & 0o777, 0o700);
  assert.equal((await stat(join(fresh, 'backend.log'))).mode & 0o777, 0o600);
});

test('the log rotates by size and keeps a bounded number of files', async () => {
  const dir = join(base, 'rotating');
  const line = (n: number) => `line ${String(n).padStart(3, '0')}\n`; // 9 bytes
  await writeAll(rotatingLog({ dir, name: 'backend', maxBytes: 20, keep: 2 }), Array.from({ length: 10 }, (_, n) => line(n)));
  assert.deepEqual((await readdir(dir)).sort(), ['backend.1.log', 'backend.2.log', 'backend.log']);
  assert.equal(await readFile(join(dir, 'backend.log'), 'utf8'), line(8) + line(9));
  assert.equal(await readFile(join(dir, 'backend.1.log'), 'utf8'), line(6) + line(7));
  assert.equal(await readFile(join(dir, 'backend.2.log'), 'utf8'), line(4) + line(5));
  for (const file of await readdir(dir)) assert.ok((await stat(join(dir, file))).size <= 20, file);
});

test('a link at the log\'s name is not followed, and a failing log does not throw', async () => {
  const dir = join(base, 'linked');
  await mkdir(dir, { mode: 0o700 });
  const target = join(base, 'elsewhere.txt');
  await writeFile(target, '');
  await symlink(target, join(dir, 'backend.log'));
  const errors: Error[] = [];
  await writeAll(rotatingLog({ dir, ...backendLogDefaults, onError: (error) => errors.push(error) }), ['secret line\n']);
  assert.equal(await readFile(target, 'utf8'), '');
  assert.ok(errors.length > 0);
});

test('at the desktop\'s log level the backend writes no line per request', async (t) => {
  const lines: string[] = [];
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const config = configSchema.parse({ dataDir, token: 't'.repeat(43), logLevel: desktopLogLevel });
  const running = await startStore(config, createLogger(config.logLevel, (line) => lines.push(line)));
  t.after(() => running.stop());
  const response = await fetch(`http://127.0.0.1:${running.port}/v1/store`);
  assert.equal(response.status, 200);
  await response.arrayBuffer();
  assert.equal(desktopLogLevel, 'warn');
  // The host (the app's and any other) wires both: the backend at this level, its output into the rotating log under userData.
  const host = await readFile(new URL('../../main/host.ts', import.meta.url), 'utf8');
  assert.match(host, /logLevel: desktopLogLevel/);
  assert.match(host, /rotatingLog\(\{ dir: join\(app\.getPath\('userData'\), 'logs'\), \.\.\.backendLogDefaults \}\)/);
  assert.ok(!lines.some((line) => JSON.parse(line).msg === 'request'), lines.join(''));
});
