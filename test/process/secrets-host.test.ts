import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createStoreHost } from '../../main/host.js';
import { KEY_RECORD } from '../../backend/src/secrets/secrets.js';
import { parseKeyRing } from '../../backend/src/secrets/key-ring.js';
import { assertNotInFiles, plaintext, projectWith } from '../helpers/secrets.js';
import { openDataDir } from '../../backend/src/store/open-data-dir.js';
import { standInElectron, standInSafeStorage } from '../helpers/electron-stand-ins.js';
import { untilState } from '../helpers/supervisor-state.js';
import { makeTempDir } from '../helpers/store.js';

/**
 * The desktop app's data key, end to end with stand-ins: main takes it from safeStorage and
 * hands it over in the `start` message (never argv or env); the backend seals with it.
 */

const dirs: string[] = [];
const cleanups: (() => void)[] = [];
after(async () => {
  for (const cleanup of cleanups) cleanup();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function runHost(userData: string, safeStorage: ReturnType<typeof standInSafeStorage>) {
  const electron = standInElectron(userData, { safeStorage });
  cleanups.push(electron.reap);
  const host = await createStoreHost(electron.electron as never, { allowedOrigins: ['app://renderer'], lan: { host: '127.0.0.2', discovery: false } });
  host.supervisor.start();
  const state = await untilState(host.supervisor, (s) => s.status === 'running' || s.status === 'error');
  assert.equal(state.status, 'running', state.error);
  return { electron, host };
}

async function storedKeyId(dataDir: string): Promise<string | undefined> {
  const storage = await openDataDir(dataDir, { sync: false });
  try {
    return (await storage.get<{ id: string }>('meta', KEY_RECORD))?.id;
  } finally {
    await storage.close();
  }
}

for (const mode of ['available', 'basic_text'] as const) {
  test(`desktop (${mode}): main hands the data key to the backend in the start message, never in argv or env`, async () => {
    const userData = await makeTempDir('api-store-secrets-host-');
    dirs.push(userData);
    const { electron, host } = await runHost(userData, standInSafeStorage(mode));
    const { loadDesktopKeys } = await import('../../main/data-key.js');
    const { keys } = await loadDesktopKeys(standInSafeStorage(mode), userData, 'linux');
    const key = keys.ring!.current.key;
    const child = electron.children[0];
    assert.ok(!child.spawnargs.join(' ').includes(key));
    assert.ok(!Object.values(process.env).some((value) => value?.includes(key)));
    if (mode === 'basic_text') {
      assert.match(host.warnings().join('\n'), /No OS keyring/);
      assert.ok(host.menuItems().some((item) => String(item.label).includes('No OS keyring')));
    } else {
      assert.deepEqual(host.warnings(), []);
    }
    assert.equal(await host.supervisor.stop(), 'stopped');
    // The backend sealed its key check with the key main gave it, and made no key file of its own.
    assert.equal(await storedKeyId(host.dataDir), keys.ring!.current.id);
    await assert.rejects(import('node:fs/promises').then((fs) => fs.stat(join(host.dataDir, 'data.key'))));
  });
}

test('desktop: a keychain that no longer opens the key leaves the store running with a warning that names the keychain', async () => {
  const userData = await makeTempDir('api-store-secrets-host-');
  dirs.push(userData);
  const first = await runHost(userData, standInSafeStorage('available'));
  await first.host.supervisor.stop();
  const broken = { ...standInSafeStorage('available'), decryptString: () => { throw new Error('Error while decrypting the ciphertext'); } };
  const second = await runHost(userData, broken);
  assert.match(second.host.warnings().join('\n'), /Secrets are locked: the OS keychain \(safeStorage, .*data-key\.safe\) could not give the data key/);
  assert.equal(await second.host.supervisor.stop(), 'stopped');
});

test('desktop: a key rotation keeps the new key through main in the keychain; a restart and a new launch open every secret', async () => {
  const userData = await makeTempDir('api-store-secrets-host-');
  dirs.push(userData);
  const safeStorage = standInSafeStorage('available');
  const { host } = await runHost(userData, safeStorage);
  const call = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const connection = host.connection()!;
    const response = await fetch(`${connection.baseUrl}${path}`, {
      method: init.method,
      headers: { Authorization: `Bearer ${connection.token}`, Origin: 'app://renderer', ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const secret = plaintext('desktop');
  const created = await call('/files?alt=media', { method: 'POST', body: { meta: { kind: 'Core#HttpProject', info: { name: 'p' } }, media: projectWith([{ name: 'k', value: secret, secret: true }]) } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const before = parseKeyRing(safeStorage.decryptString(Buffer.from(await readFile(join(userData, 'data-key.safe'), 'utf8'), 'base64')));

  assert.equal((await call('/secrets/rotation', { method: 'POST' })).status, 202);
  let status;
  do status = (await call('/secrets/rotation')).body;
  while (status.state === 'running');
  assert.equal(status.state, 'done', JSON.stringify(status));
  const after = parseKeyRing(safeStorage.decryptString(Buffer.from(await readFile(join(userData, 'data-key.safe'), 'utf8'), 'base64')));
  assert.equal(after.current.id, status.keyId);
  assert.notEqual(after.current.id, before.current.id);
  assert.equal(after.previous, undefined);
  const reveal = async () => (await call(`/files/${created.body.key}?alt=media&reveal=secrets`)).body.definitions.environments[0].variables[0].value;
  assert.equal(await reveal(), secret);

  // The supervisor restarts the backend with the new ring.
  await host.supervisor.stop();
  host.supervisor.start();
  await untilState(host.supervisor, (s) => s.status === 'running');
  assert.deepEqual(host.warnings(), []);
  assert.equal(await reveal(), secret);
  await host.supervisor.stop();
  await assertNotInFiles(userData, [secret]);
});
