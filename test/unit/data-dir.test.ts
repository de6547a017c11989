import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadSessionKey } from '../../backend/src/auth/session-tokens.js';
import { ensureDataDir, ensurePrivateDir, readPrivateFile, UntrustedPathError, writePrivateFile } from '../../backend/src/data-dir.js';
import { loadCertificate } from '../../backend/src/lan/tls.js';
import { makeTempDir } from '../helpers/store.js';

let base: string;
before(async () => (base = await makeTempDir('api-store-data-dir-')));
after(() => rm(base, { recursive: true, force: true }));

test('a new data dir and its LevelDB folder are created 0700, parents included', async () => {
  const dataDir = join(base, 'fresh', 'nested', 'store');
  const db = await ensureDataDir(dataDir);
  assert.equal(db, join(dataDir, 'db'));
  for (const dir of [join(base, 'fresh'), dataDir, db]) assert.equal((await stat(dir)).mode & 0o777, 0o700, dir);
});

test('an existing loose data dir is tightened to 0700', async () => {
  const dataDir = join(base, 'loose');
  await mkdir(dataDir);
  await chmod(dataDir, 0o777);
  await ensurePrivateDir(dataDir);
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
});

test('a data dir that is a symbolic link is refused, and its target left alone', async () => {
  const target = join(base, 'target');
  await mkdir(target);
  await chmod(target, 0o755);
  await symlink(target, join(base, 'linked'));
  await assert.rejects(ensurePrivateDir(join(base, 'linked')), (error: Error) => error instanceof UntrustedPathError && /is a symbolic link/.test(error.message));
  assert.equal((await stat(target)).mode & 0o777, 0o755);
});

test('a secret is written 0600 and replaces a link planted at its name instead of following it', async () => {
  const dir = join(base, 'secrets');
  await ensurePrivateDir(dir);
  const loot = join(base, 'loot');
  await writeFile(loot, '');
  await symlink(loot, join(dir, 'server.json'));
  await writePrivateFile(join(dir, 'server.json'), '{"token":"t"}\n');
  assert.equal(await readFile(loot, 'utf8'), '');
  const written = await lstat(join(dir, 'server.json'));
  assert.ok(written.isFile());
  assert.equal(written.mode & 0o777, 0o600);
  assert.equal(await readPrivateFile(join(dir, 'server.json')), '{"token":"t"}\n');
  assert.deepEqual(await readdir(dir), ['server.json'], 'no temp file left behind');
});

test('a secret that is a link, readable by others or missing is refused or reported as missing', async () => {
  const dir = join(base, 'reads');
  await ensurePrivateDir(dir);
  await writeFile(join(dir, 'loose'), 'x', { mode: 0o644 });
  await chmod(join(dir, 'loose'), 0o644);
  await assert.rejects(readPrivateFile(join(dir, 'loose')), /has mode 0644, so other users can read or replace it/);
  await writePrivateFile(join(dir, 'real'), 'x');
  await symlink(join(dir, 'real'), join(dir, 'link'));
  await assert.rejects(readPrivateFile(join(dir, 'link')), /is a symbolic link/);
  await assert.rejects(readPrivateFile(join(dir, 'missing')), { code: 'ENOENT' });
});

test('a session key or a TLS key that others could have planted is refused; fresh ones are 0600', async () => {
  const dir = join(base, 'keys');
  await ensurePrivateDir(dir);
  await writeFile(join(dir, 'session.key'), 'planted\n', { mode: 0o666 });
  await chmod(join(dir, 'session.key'), 0o666);
  await assert.rejects(loadSessionKey(dir), /session\.key has mode 0666/);
  await rm(join(dir, 'session.key'));
  const key = await loadSessionKey(dir);
  assert.equal((await stat(join(dir, 'session.key'))).mode & 0o777, 0o600);
  assert.deepEqual(await loadSessionKey(dir), key);

  const certificate = await loadCertificate(dir);
  for (const file of ['lan-key.pem', 'lan-cert.pem']) assert.equal((await stat(join(dir, file))).mode & 0o777, 0o600, file);
  assert.equal((await loadCertificate(dir)).fingerprint, certificate.fingerprint);
  await chmod(join(dir, 'lan-key.pem'), 0o644);
  await assert.rejects(loadCertificate(dir), /lan-key\.pem has mode 0644/);
});
