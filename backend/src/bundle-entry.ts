/**
 * The built backend's entries, out/backend/cli.js and child.js, are this file built twice: each
 * runs the bundle beside it (cli.cjs, child.cjs) with V8's code cache (process/code-cache.ts).
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeCacheDir, runBundle } from './process/code-cache.js';

/** Each bundle's SHA-256 (16 hex digits) by name, written in by the build. */
declare const BUNDLE_HASHES: Record<string, string>;

const bundle = fileURLToPath(import.meta.url).replace(/\.js$/, '.cjs');
await runBundle(bundle, BUNDLE_HASHES[basename(bundle, '.cjs')], codeCacheDir(process.env));
