/**
 * The built backend's entries, out/backend/cli.js and child.js, are this file built twice: each
 * runs the bundle beside it (cli.cjs, child.cjs) with V8's code cache (process/code-cache.ts).
 */
import { fileURLToPath } from 'node:url';
import { codeCacheDir, runBundle } from './process/code-cache.js';

await runBundle(fileURLToPath(import.meta.url).replace(/\.js$/, '.cjs'), codeCacheDir(process.env));
