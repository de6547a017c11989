import assert from 'node:assert/strict';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { lanChoiceFile, lanChoiceKeeper, loadLanChoice } from '../../main/lan-choice.js';
import { makeTempDir } from '../helpers/store.js';

test('the LAN choice is kept 0600 in the data dir and read back; the last of quick changes wins', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  assert.deepEqual(await loadLanChoice(dataDir), { enabled: false }, 'no file: off');
  const keeper = lanChoiceKeeper(dataDir, (error) => assert.fail(error));
  keeper.keep({ enabled: true });
  keeper.keep({ enabled: true, port: 8443 });
  keeper.keep({ enabled: false, port: 8443 });
  keeper.keep({ enabled: true, port: 8443 });
  await keeper.written();
  assert.deepEqual(await loadLanChoice(dataDir), { enabled: true, port: 8443 });
  if (process.platform !== 'win32') assert.equal((await stat(join(dataDir, lanChoiceFile))).mode & 0o777, 0o600);
});

test('a choice file that is invalid, or that others could have written, means sharing off', async (t) => {
  const dataDir = await makeTempDir();
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const file = join(dataDir, lanChoiceFile);
  for (const content of ['not json', '{"enabled":"yes"}', '{"enabled":true,"port":70000}']) {
    await writeFile(file, content, { mode: 0o600 });
    assert.deepEqual(await loadLanChoice(dataDir), { enabled: false }, content);
  }
  await writeFile(file, JSON.stringify({ enabled: true }), { mode: 0o600 });
  assert.deepEqual(await loadLanChoice(dataDir), { enabled: true });
  if (process.platform !== 'win32') {
    // Planted or loosened: readable and writable by everyone.
    await chmod(file, 0o666);
    assert.deepEqual(await loadLanChoice(dataDir), { enabled: false });
    assert.equal(await readFile(file, 'utf8'), '{"enabled":true}', 'left for the user to look at, not trusted');
  }
});
