import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';

/** The JSON schema electron-builder itself validates configurations with. */
export async function electronBuilderSchema(): Promise<object> {
  return JSON.parse(await readFile(createRequire(import.meta.url).resolve('app-builder-lib/scheme.json'), 'utf8'));
}

/** A validator as electron-builder's own (`coerceTypes` as it has, for `-c.key=value` strings). */
export async function electronBuilderValidator(options: { coerceTypes?: boolean } = {}) {
  return new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, ...options }).compile(await electronBuilderSchema());
}

async function nativeFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => entry.endsWith('.node') && !entry.split(sep).includes('node_modules')).map((entry) => join(dir, entry));
}

/**
 * Every native addon (`.node` file) in the production dependency tree of the package at `root`,
 * as a path relative to it (`node_modules/classic-level/prebuilds/…`): what asarUnpack must cover.
 */
export async function productionNativeAddons(root: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const packages = stdout.split('\n').filter((line) => line && line !== root);
  const found = await Promise.all(packages.map(nativeFiles));
  return found.flat().map((file) => relative(root, file).split(sep).join('/'));
}
