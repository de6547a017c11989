import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { bundleBackend } from '../../build/bundle-backend.js';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { Supervisor } from '../../main/supervisor.js';
import { preloadBuildOptions } from '../../build/bundle-preload.js';
import { childProcessForker, reap } from '../helpers/child-backend.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
let app: string;

/** The app as `npm run build` lays it out (tsc to out/, the backend and preload bundles), in a temp dir. */
before(async () => {
  app = await mkdtemp(join(tmpdir(), 'api-store-built-'));
  // The forked backend keeps its code cache here, not in the user's cache folder.
  process.env.API_STORE_CODE_CACHE = join(app, 'code-cache');
  await promisify(execFile)(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(app, 'out')]);
  await build(preloadBuildOptions(join(app, 'out/preload/index.cjs')));
  await bundleBackend(join(app, 'out/backend'));
  await cp(join(repo, 'package.json'), join(app, 'package.json'));
  await symlink(join(repo, 'node_modules'), join(app, 'node_modules'));
});
after(() => rm(app, { recursive: true, force: true }));

test('the build holds every file main/index.js loads', async () => {
  const main = await readFile(join(app, 'out/main/index.js'), 'utf8');
  for (const [, specifier] of main.matchAll(/from '(\.{1,2}\/[^']+)'/g)) assert.ok(existsSync(join(app, 'out/main', specifier)), specifier);
  for (const path of ['out/backend/child.js', 'out/backend/cli.js', 'out/preload/index.cjs']) assert.ok(existsSync(join(app, path)), path);
});

test('the supervisor runs the bundled backend with plain Node, no tsx', async (t) => {
  const fork = childProcessForker(pathToFileURL(join(app, 'out/backend/child.js')), []);
  t.after(() => reap(fork.children));
  const dataDir = join(app, 'data');
  const supervisor = new Supervisor({ fork, config: { dataDir, token: createLaunchToken(), logLevel: 'silent' } });
  const running = new Promise<void>((resolve) => supervisor.onChange((state) => state.status === 'running' && resolve()));
  supervisor.start();
  await running;
  const response = await fetch(`http://127.0.0.1:${supervisor.state.port}/v1/store`);
  assert.equal(response.status, 200);
  assert.equal(await supervisor.stop(), 'stopped');
});
