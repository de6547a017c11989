import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { minimatch } from 'minimatch';
import { parse } from 'yaml';
import { externalPackages, levelBinding } from '../../build/bundle-backend.js';
import { electronBuilderValidator, productionNativeAddons } from '../helpers/electron-builder.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const config = parse(read('electron-builder.yml')) as Record<string, any>;
const packageJson = JSON.parse(read('package.json')) as Record<string, any>;

test('electron-builder.yml is valid against the schema shipped with electron-builder', async () => {
  const validate = await electronBuilderValidator();
  assert.ok(validate(config), JSON.stringify(validate.errors, null, 2));
  // The schema is strict, so a typo would not pass unnoticed.
  assert.equal(validate({ ...config, npmRebuilt: false }), false);
  assert.equal(validate({ ...config, linux: { ...config.linux, maintainr: 'x' } }), false);
});

test('it targets AppImage and deb, dmg and nsis, with what each needs', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.equal(config.mac.target, 'dmg');
  assert.equal(config.win.target, 'nsis');
  assert.ok(config.appId && config.productName);
  // deb refuses to build without a homepage and a maintainer.
  assert.match(packageJson.homepage, /^https:\/\//);
  assert.match(config.linux.maintainer, /<.+@.+>/);
  for (const icon of [config.linux.icon, config.mac.icon, config.win.icon]) assert.ok(existsSync(new URL(icon, root)), icon);
});

test('LevelDB\'s native prebuilds stay usable: no source rebuild, unpacked from asar', () => {
  assert.equal(config.npmRebuild, false);
  assert.ok(config.asarUnpack.includes('**/node_modules/classic-level/**'));
});

/** The packaging guidance for hosts, as a host's config: examples/host-app/electron-builder.yml. */
const hostConfig = parse(read('examples/host-app/electron-builder.yml')) as Record<string, any>;

test('a host\'s electron-builder config with the README\'s settings is valid against electron-builder\'s schema', async () => {
  const validate = await electronBuilderValidator();
  assert.ok(validate(hostConfig), JSON.stringify(validate.errors, null, 2));
  assert.equal(hostConfig.npmRebuild, false);
  assert.equal(hostConfig.asar, true);
  // The README shows these very settings.
  const readme = read('README.md');
  for (const pattern of hostConfig.asarUnpack) assert.ok(readme.includes(`- "${pattern}"`), pattern);
  assert.match(readme, /npmRebuild: false/);
});

test('every native addon api-store brings is unpacked from asar, in the host\'s config and the app\'s', async () => {
  const addons = await productionNativeAddons(fileURLToPath(root));
  assert.ok(addons.some((addon) => addon.startsWith('node_modules/classic-level/')), addons.join('\n'));
  for (const [name, { asarUnpack }] of [['host', hostConfig], ['app', config]] as const) {
    const uncovered = addons.filter((addon) => !asarUnpack.some((pattern: string) => minimatch(addon, pattern, { dot: true })));
    assert.deepEqual(uncovered, [], `${name}: native addons inside the asar archive`);
  }
});

test('every native addon stays out of the backend bundle, loaded from its own folder', async () => {
  const addons = await productionNativeAddons(fileURLToPath(root));
  // The addon's package, or the package that loads it (@node-rs/argon2 loads @node-rs/argon2-<platform>).
  const packageOf = (addon: string) => addon.split('/').slice(1, addon.startsWith('node_modules/@') ? 3 : 2).join('/');
  const outside = [...externalPackages, levelBinding.split('/')[0]];
  const bundled = addons.filter((addon) => !outside.some((name) => packageOf(addon) === name || packageOf(addon).startsWith(`${name}-`)));
  assert.deepEqual(bundled, []);
});

test('the packed files hold the entry points main/index.ts expects', () => {
  assert.equal(packageJson.main, 'out/main/index.js');
  const files: string[] = config.files;
  for (const needed of ['out/main/**', 'out/backend/**', 'out/preload/**', 'renderer-stub/**']) assert.ok(files.includes(needed), needed);
  // The host forks the backend bundle beside out/main/ (from source under tsx).
  assert.match(read('main/backend-entry.ts'), /'\.\.\/backend\/child\.js'/);
  assert.match(read('build/bundle-backend.ts'), /out\/backend/);
  assert.match(read('main/index.ts'), /'\.\.\/preload\/index\.cjs'/);
  assert.match(read('build/bundle-preload.ts'), /out\/preload\/index\.cjs/);
  for (const file of files.filter((f) => f.startsWith('build/'))) assert.ok(existsSync(new URL(file, root)), file);
  assert.match(packageJson.scripts.build, /tsc -p tsconfig\.build\.json/);
  assert.match(packageJson.scripts.build, /build\/bundle-backend\.ts/);
  assert.match(packageJson.scripts.dist, /electron-builder/);
});

test('the fuses close the ways to run other code as the app', () => {
  assert.deepEqual(config.electronFuses, {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    onlyLoadAppFromAsar: true,
    enableEmbeddedAsarIntegrityValidation: true,
    grantFileProtocolExtraPrivileges: false,
    enableCookieEncryption: true,
  });
  // The app is packed into the asar archive that onlyLoadAppFromAsar and the integrity check need.
  assert.equal(config.asar, true);
  // The backend is forked with an environment without NODE_OPTIONS (test/process/supervisor-utility-fork.test.ts).
  assert.match(read('main/host.ts'), /utilityProcessForker\(utilityProcess\.fork, backendEntry, \w+, process\.env\)/);
});

test('releases are signed or fail: hardened runtime with only allow-jit, notarization, Windows signing', async () => {
  assert.equal(config.forceCodeSigning, true);
  for (const platform of ['mac', 'win']) assert.notEqual(config[platform].forceCodeSigning, false, platform);
  assert.equal(config.mac.hardenedRuntime, true);
  assert.equal(config.mac.notarize, true);
  assert.equal(config.mac.entitlements, 'build/entitlements.mac.plist');
  assert.equal(config.mac.entitlementsInherit, 'build/entitlements.mac.plist');
  const entitlements = read(config.mac.entitlements);
  assert.deepEqual([...entitlements.matchAll(/<key>([^<]+)<\/key>\s*<(true|false)\/>/g)].map(([, key, value]) => [key, value]), [['com.apple.security.cs.allow-jit', 'true']]);
  assert.doesNotMatch(entitlements, /disable-library-validation|allow-unsigned-executable-memory|allow-dyld-environment-variables/);
  assert.deepEqual(config.win.signtoolOptions.signingHashAlgorithms, ['sha256']);
  assert.match(config.win.signtoolOptions.rfc3161TimeStampServer, /^https?:\/\//);

  // The afterSign hook fails a signed macOS build that could not be notarized.
  assert.equal(config.afterSign, './build/require-notarization.cjs');
  const hook = createRequire(import.meta.url)(new URL(config.afterSign, root).pathname);
  const context = (electronPlatformName: string, forceCodeSigning: boolean) => ({ electronPlatformName, packager: { forceCodeSigning } });
  const { APPLE_API_KEY: _a, APPLE_ID: _b, APPLE_KEYCHAIN: _c, ...noCredentials } = process.env;
  assert.match(hook.missingNotarization('darwin', true, noCredentials), /signed but not notarized/);
  assert.equal(hook.missingNotarization('darwin', true, { APPLE_API_KEY: 'k.p8', APPLE_API_KEY_ID: 'id', APPLE_API_ISSUER: 'issuer' }), undefined);
  assert.match(hook.missingNotarization('darwin', true, { APPLE_API_KEY: 'k.p8' }), /not notarized/, 'an incomplete set does not count');
  assert.equal(hook.missingNotarization('darwin', false, noCredentials), undefined, 'a try-out build with forceCodeSigning=false');
  assert.equal(hook.missingNotarization('win32', true, noCredentials), undefined);
  if (!process.env.APPLE_API_KEY && !process.env.APPLE_ID && !process.env.APPLE_KEYCHAIN) await assert.rejects(hook(context('darwin', true)), /not notarized/);
  await hook(context('linux', true));

  // `-c.forceCodeSigning=false` arrives as a string; electron-builder's validator (ajv with
  // coerceTypes) makes it the boolean, so the try-out switch in the comment really switches.
  const overridden = { ...config, forceCodeSigning: 'false' };
  assert.ok((await electronBuilderValidator({ coerceTypes: true }))(overridden));
  assert.equal(overridden.forceCodeSigning, false);
});
