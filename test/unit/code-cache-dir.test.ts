import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { codeCacheDir } from '../../backend/src/process/code-cache.js';

test("the built backend's code cache goes to the platform's per-user cache folder, or where API_STORE_CODE_CACHE says", () => {
  const home = join('/', 'home', 'ada');
  assert.equal(codeCacheDir({}, 'linux', home), join(home, '.cache', 'api-store'));
  assert.equal(codeCacheDir({ XDG_CACHE_HOME: join('/', 'cache') }, 'linux', home), join('/', 'cache', 'api-store'));
  // The XDG spec ignores a relative path: it would depend on the folder the app was started from.
  assert.equal(codeCacheDir({ XDG_CACHE_HOME: 'cache' }, 'linux', home), join(home, '.cache', 'api-store'));
  assert.equal(codeCacheDir({}, 'darwin', home), join(home, 'Library', 'Caches', 'api-store'));
  assert.equal(codeCacheDir({ LOCALAPPDATA: join('/', 'local') }, 'win32', home), join('/', 'local', 'api-store', 'Cache'));
  assert.equal(codeCacheDir({}, 'win32', home), join(home, 'AppData', 'Local', 'api-store', 'Cache'));
  assert.equal(codeCacheDir({ API_STORE_CODE_CACHE: join('/', 'elsewhere') }, 'linux', home), join('/', 'elsewhere'));
  assert.equal(codeCacheDir({ API_STORE_CODE_CACHE: 'off' }, 'linux', home), undefined);
});
