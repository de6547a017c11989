import assert from 'node:assert/strict';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateDataKey, keyRingText } from '../../backend/src/secrets/key-ring.js';
import { dataDirKeySource, keyFileSource } from '../../backend/src/secrets/key-source.js';
import { seal, sealedKeyId, unseal, UnsealError } from '../../backend/src/secrets/seal.js';
import { KEY_RECORD, openSecrets } from '../../backend/src/secrets/secrets.js';
import { openDataDir } from '../../backend/src/store/open-data-dir.js';
import { Store } from '../../backend/src/store/store.js';
import { keychainProtects, loadDesktopKeys } from '../../main/data-key.js';
import { standInSafeStorage } from '../helpers/electron-stand-ins.js';
import { makeTempDir } from '../helpers/store.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
async function tempDir() {
  const dir = await makeTempDir('api-store-secrets-');
  dirs.push(dir);
  return dir;
}

test('a sealed value opens only under its key and its binding, names its key, and never repeats its IV', () => {
  const key = generateDataKey();
  const other = generateDataKey();
  const sealed = seal(key, '"secret-123"', ['file-a', 'id-1']);
  assert.equal(sealedKeyId(sealed), key.id);
  assert.ok(!sealed.includes('secret-123'));
  assert.equal(unseal({ current: key }, sealed, ['file-a', 'id-1']), '"secret-123"');
  // Under a rotation's ring it opens through `previous`.
  assert.equal(unseal({ current: other, previous: key }, sealed, ['file-a', 'id-1']), '"secret-123"');
  assert.throws(() => unseal({ current: other }, sealed, ['file-a', 'id-1']), UnsealError);
  // Moved to another file or secret: authentication fails.
  assert.throws(() => unseal({ current: key }, sealed, ['file-b', 'id-1']), UnsealError);
  assert.throws(() => unseal({ current: key }, sealed, ['file-a', 'id-2']), UnsealError);
  // A key with the same id but other bytes (a tampered key file) fails too.
  assert.throws(() => unseal({ current: { id: key.id, key: other.key } }, sealed, ['file-a', 'id-1']), UnsealError);
  const again = seal(key, '"secret-123"', ['file-a', 'id-1']);
  assert.notEqual(again.split('.')[2], sealed.split('.')[2]);
  // An altered ciphertext is refused.
  const parts = sealed.split('.');
  parts[3] = Buffer.from(Buffer.from(parts[3], 'base64url').map((byte, i) => (i === 0 ? byte ^ 1 : byte))).toString('base64url');
  assert.throws(() => unseal({ current: key }, parts.join('.'), ['file-a', 'id-1']), UnsealError);
});

test('server mode: the key file is made 0600 on first start, reused after, and a wrong or missing key locks secrets naming the source', async () => {
  const dataDir = await tempDir();
  const keyFile = join(await tempDir(), 'store.key');
  const source = keyFileSource(keyFile, '--key-file');
  let storage = await openDataDir(dataDir, { sync: false });
  let store = await Store.open(storage);
  const first = await openSecrets(store, source);
  assert.equal(first.problem, undefined);
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
  const sealed = first.seal('secret-123', ['f', 'x']);
  const record = await storage.get<{ id: string }>('meta', KEY_RECORD);
  assert.equal(record?.id, first.ring.current.id);
  await store.close();

  storage = await openDataDir(dataDir, { sync: false });
  store = await Store.open(storage);
  const again = await openSecrets(store, source);
  assert.equal(again.open(sealed, ['f', 'x']), 'secret-123');

  // A wrong key: locked, the source named, nothing written over.
  const good = await readFile(keyFile, 'utf8');
  await writeFile(keyFile, keyRingText({ current: generateDataKey() }), { mode: 0o600 });
  const wrong = await openSecrets(store, source);
  assert.match(wrong.problem ?? '', /not the key this store's secrets are sealed with/);
  assert.ok(wrong.problem?.includes(keyFile) && wrong.problem.includes('--key-file'));
  assert.throws(() => wrong.open(sealed, ['f', 'x']), (error: Error & { code?: string }) => error.code === 'secrets_locked' && error.message.includes(keyFile));
  assert.equal((await storage.get<{ id: string }>('meta', KEY_RECORD))?.id, record?.id);

  // A missing key: locked, and no new key is made over a store that has secrets.
  await rm(keyFile);
  const gone = await openSecrets(store, source);
  assert.match(gone.problem ?? '', /the data key is missing/);
  await assert.rejects(stat(keyFile));

  // A key file others can read is refused, not used.
  await writeFile(keyFile, good, { mode: 0o644 });
  await chmod(keyFile, 0o644);
  assert.match((await openSecrets(store, source)).problem ?? '', /other users can read/);
  await chmod(keyFile, 0o600);
  assert.equal((await openSecrets(store, source)).open(sealed, ['f', 'x']), 'secret-123');
  await store.close();
});

test('the default key file of a plain --server is <data-dir>/data.key', async () => {
  const dataDir = await tempDir();
  const source = dataDirKeySource(dataDir, {});
  assert.match(source.name, /data\.key/);
  const storage = await openDataDir(dataDir, { sync: false });
  const store = await Store.open(storage);
  assert.equal((await openSecrets(store, source)).problem, undefined);
  assert.equal((await stat(join(dataDir, 'data.key'))).mode & 0o777, 0o600);
  await store.close();
});

test('desktop: with a keychain the key is kept encrypted by safeStorage and reused; nothing is in the clear', async () => {
  const userData = await tempDir();
  const safeStorage = standInSafeStorage('available');
  assert.equal(keychainProtects(safeStorage, 'linux'), true);
  const first = await loadDesktopKeys(safeStorage, userData, 'linux');
  assert.equal(first.warning, undefined);
  assert.ok(first.keys.ring);
  assert.match(first.keys.source, /OS keychain/);
  const kept = await readFile(join(userData, 'data-key.safe'), 'utf8');
  assert.ok(!kept.includes(first.keys.ring.current.key));
  assert.ok(Buffer.from(kept, 'base64').toString().startsWith('stand-in-keychain:'));
  assert.equal((await stat(join(userData, 'data-key.safe'))).mode & 0o777, 0o600);
  await assert.rejects(stat(join(userData, 'data-key.json')));
  const second = await loadDesktopKeys(safeStorage, userData, 'linux');
  assert.deepEqual(second.keys.ring, first.keys.ring);

  // A keychain that cannot decrypt the file (another login, a reset keyring): the reason goes to the backend, the file stays.
  const broken = { ...safeStorage, decryptString: () => { throw new Error('Error while decrypting the ciphertext'); } };
  const failed = await loadDesktopKeys(broken, userData, 'linux');
  assert.equal(failed.keys.ring, undefined);
  assert.match(failed.keys.problem ?? '', /could not give the data key: Error while decrypting/);
  assert.equal(await readFile(join(userData, 'data-key.safe'), 'utf8'), kept);
});

test('desktop on Linux with basic_text: a warning, and the key in a 0600 file; a keyring later takes it over', async () => {
  const userData = await tempDir();
  const basic = standInSafeStorage('basic_text');
  assert.equal(keychainProtects(basic, 'linux'), false);
  // basic_text is only a Linux backend name; elsewhere an available safeStorage encrypts.
  assert.equal(keychainProtects(basic, 'darwin'), true);
  const loaded = await loadDesktopKeys(basic, userData, 'linux');
  assert.match(loaded.warning ?? '', /No OS keyring/);
  assert.match(loaded.keys.source, /basic_text/);
  const file = join(userData, 'data-key.json');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.ok((await readFile(file, 'utf8')).includes(loaded.keys.ring!.current.key));
  await assert.rejects(stat(join(userData, 'data-key.safe')));
  assert.deepEqual((await loadDesktopKeys(basic, userData, 'linux')).keys.ring, loaded.keys.ring);

  const keyring = await loadDesktopKeys(standInSafeStorage('available'), userData, 'linux');
  assert.deepEqual(keyring.keys.ring, loaded.keys.ring);
  assert.equal(keyring.warning, undefined);
  await assert.rejects(stat(file));
});

test('desktop: a rotated key ring is kept where it is read from, through the keychain or in the 0600 file', async () => {
  const { saveDesktopKeys } = await import('../../main/data-key.js');
  const { keyRingToJson } = await import('../../backend/src/secrets/key-ring.js');
  for (const mode of ['available', 'basic_text'] as const) {
    const userData = await tempDir();
    const safeStorage = standInSafeStorage(mode);
    const first = await loadDesktopKeys(safeStorage, userData, 'linux');
    const rotated = keyRingToJson({ current: generateDataKey(), previous: { id: first.keys.ring!.current.id, key: Buffer.from(first.keys.ring!.current.key, 'base64') } });
    await saveDesktopKeys(safeStorage, userData, rotated, 'linux');
    assert.deepEqual((await loadDesktopKeys(safeStorage, userData, 'linux')).keys.ring, rotated, mode);
    const file = join(userData, mode === 'available' ? 'data-key.safe' : 'data-key.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await readFile(file, 'utf8')).includes(rotated.current.key), mode === 'basic_text');
  }
});
