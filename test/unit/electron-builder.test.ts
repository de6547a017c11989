import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const config = parse(read('electron-builder.yml')) as Record<string, any>;
const packageJson = JSON.parse(read('package.json')) as Record<string, any>;

test('electron-builder.yml is valid against the schema shipped with electron-builder', () => {
  // The schema electron-builder itself validates configurations with.
  const schemaFile = createRequire(import.meta.url).resolve('app-builder-lib/scheme.json');
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  const validate = ajv.compile(schema);
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

test('the packed files hold the entry points main/index.ts expects', () => {
  assert.equal(packageJson.main, 'out/main/index.js');
  const files: string[] = config.files;
  for (const needed of ['out/main/**', 'out/backend/**', 'out/preload/**', 'renderer-stub/**']) assert.ok(files.includes(needed), needed);
  const main = read('main/index.ts');
  assert.match(main, /'\.\.\/backend\/child\.js'/);
  assert.match(read('build/bundle-backend.ts'), /out\/backend/);
  assert.match(main, /'\.\.\/preload\/index\.cjs'/);
  assert.match(read('build/bundle-preload.ts'), /out\/preload\/index\.cjs/);
  for (const file of files.filter((f) => f.startsWith('build/'))) assert.ok(existsSync(new URL(file, root)), file);
  assert.match(packageJson.scripts.build, /tsc -p tsconfig\.build\.json/);
  assert.match(packageJson.scripts.build, /build\/bundle-backend\.ts/);
  assert.match(packageJson.scripts.dist, /electron-builder/);
});
