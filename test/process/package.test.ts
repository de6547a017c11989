import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { bundleBackend } from '../../build/bundle-backend.js';
import { preloadBuildOptions } from '../../build/bundle-preload.js';
import { makeTempDir } from '../helpers/store.js';

/**
 * The package as a host gets it: `npm pack` of the repository's tracked files with out/ built,
 * installed into a fresh project that uses only the entry points in `exports`.
 *
 * The install is offline: the tarball is unpacked into the project's node_modules/api-store and
 * api-store's dependencies are links to this repository's node_modules (a registry install would
 * need the network). Electron's binary is never downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD=1).
 */

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
let dir: string;
let project: string;
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

before(async () => {
  dir = await makeTempDir('api-store-pack-');
  // The built backend keeps its code cache here, not in the user's cache folder.
  env.API_STORE_CODE_CACHE = join(dir, 'code-cache');
  const stage = join(dir, 'stage');
  const { stdout } = await run('git', ['ls-files', '-z'], { cwd: repo });
  for (const file of stdout.split('\0').filter(Boolean)) {
    await mkdir(dirname(join(stage, file)), { recursive: true });
    await cp(join(repo, file), join(stage, file));
  }
  // `npm run build`, into the staged copy.
  await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(stage, 'out')]);
  await build(preloadBuildOptions(join(stage, 'out/preload/index.cjs')));
  await bundleBackend(join(stage, 'out/backend'));
  const pack = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: stage, env });
  [packed] = JSON.parse(pack.stdout);

  project = join(dir, 'host');
  const modules = join(project, 'node_modules');
  await mkdir(join(modules, 'api-store'), { recursive: true });
  await run('tar', ['-xzf', join(dir, packed.filename), '-C', join(modules, 'api-store'), '--strip-components=1']);
  for (const name of await readdir(join(repo, 'node_modules'))) {
    if (name === '.bin' || name === 'api-store') continue;
    await symlink(join(repo, 'node_modules', name), join(modules, name));
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'a-host', private: true, type: 'module' }));
});
after(() => rm(dir, { recursive: true, force: true }));

test('the tarball holds the compiled package and its declarations, nothing from test/, examples/ or the benches', () => {
  const paths = packed.files.map((file) => file.path);
  for (const needed of ['package.json', 'out/main/host.js', 'out/main/host.d.ts', 'out/preload/expose.js', 'out/preload/expose.d.ts', 'out/preload/index.cjs', 'out/backend/child.js', 'out/backend/cli.js', 'bin/api-store.js']) {
    assert.ok(paths.includes(needed), needed);
  }
  // The bundles the entries run, and the licenses of the code in them.
  for (const bundle of ['out/backend/child.cjs', 'out/backend/cli.cjs', 'out/backend/child.cjs.LEGAL.txt']) assert.ok(paths.includes(bundle), bundle);
  const unexpected = paths.filter((path) => !/^(out|bin)\//.test(path) && !['package.json', 'README.md'].includes(path));
  assert.deepEqual(unexpected, []);
  assert.ok(!paths.some((path) => /(^|\/)(test|bench|examples)\//.test(path) || path.endsWith('.ts') && !path.endsWith('.d.ts')));
  process.stdout.write(`# tarball ${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${paths.length} files\n`);
});

test('the entry points import in the installed package; paths outside `exports` are refused', async () => {
  const script = `
    const host = await import('api-store/host');
    const preload = await import('api-store/preload');
    const { createRequire } = await import('node:module');
    const bundled = createRequire(import.meta.url).resolve('api-store/preload/bundled.cjs');
    let refused = '';
    try { await import('api-store/out/main/host.js'); } catch (error) { refused = error.code; }
    console.log(JSON.stringify({ host: Object.keys(host).sort(), preload: Object.keys(preload), bundled: bundled.endsWith('out/preload/index.cjs'), refused }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project, env });
  assert.deepEqual(JSON.parse(stdout), { host: ['createStoreHost', 'statusLine'], preload: ['exposeApiStore'], bundled: true, refused: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

test('tsc type-checks a host against the shipped declarations', async () => {
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['main.ts', 'preload.ts'] }),
  );
  await writeFile(
    join(project, 'main.ts'),
    `import * as electron from 'electron';
import { createStoreHost, type StoreConnection, type SupervisorState } from 'api-store/host';

const store = await createStoreHost(electron, { allowedOrigins: ['app://host'], prefix: '/v1' });
electron.app.on('before-quit', store.beforeQuit);
const menu = electron.Menu.buildFromTemplate([...store.menuItems(), { role: 'quit' }]);
store.supervisor.onChange((state: SupervisorState) => state.lan.enabled && menu.items.length > 0);
store.supervisor.setLan(true);
store.supervisor.start();
const connection: StoreConnection | null = store.connection();
// The declarations are precise, not any:
// @ts-expect-error the status is a string union
const status: number = store.supervisor.state.status;
// @ts-expect-error allowedOrigins is required
await createStoreHost(electron, {});
export { connection, status };
`,
  );
  await writeFile(
    join(project, 'preload.ts'),
    `import { contextBridge, ipcRenderer } from 'electron';
import { exposeApiStore, type ApiStoreBridge } from 'api-store/preload';

exposeApiStore({ contextBridge, ipcRenderer });
export type Bridge = ApiStoreBridge;
`,
  );
  const result = await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project, env }).catch((error) => error);
  assert.equal(result.stdout ?? '', '', result.stdout);
});

test('the installed host starts the backend it resolves itself, from inside the package', async () => {
  const standIns = new URL('../helpers/electron-stand-ins.ts', import.meta.url).href;
  await writeFile(
    join(project, 'run.ts'),
    `import { createStoreHost } from 'api-store/host';
import { standInElectron } from '${standIns}';

const electron = standInElectron(process.argv[2]);
const store = await createStoreHost(electron.electron as never, { allowedOrigins: ['app://host'] });
electron.electron.app.on('before-quit', store.beforeQuit);
const running = new Promise<void>((resolve) => store.supervisor.onChange((state) => state.status === 'running' && resolve()));
store.supervisor.start();
await running;
const connection = await electron.invoke('store:get-connection', 'app://host/index.html') as { baseUrl: string; token: string };
const response = await fetch(connection.baseUrl + '/store', { headers: { Authorization: 'Bearer ' + connection.token } });
electron.electron.app.quit();
await electron.quit;
console.log(JSON.stringify({ status: response.status, entry: electron.children[0].spawnargs.at(-1), stopped: store.supervisor.state.status }));
`,
  );
  const userData = join(dir, 'user-data');
  await mkdir(userData);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'run.ts', userData], { cwd: project, env, timeout: 120_000 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.equal(result.status, 200);
  assert.equal(result.entry, join(project, 'node_modules/api-store/out/backend/child.js'));
  assert.equal(result.stopped, 'stopped');
  assert.ok((await stat(join(userData, 'api-store'))).isDirectory(), 'the data under userData by default');
});
