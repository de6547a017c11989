/**
 * Bundles preload/ into one CommonJS file: a sandboxed preload can be neither ESM nor split
 * into modules; it may only require `electron`. `npm run build` runs this; the preload test
 * bundles with the same options.
 */
import { build, type BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const preloadEntry = fileURLToPath(new URL('../preload/index.ts', import.meta.url));

export function preloadBuildOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [preloadEntry],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'chrome130',
    external: ['electron'],
    logLevel: 'warning',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build(preloadBuildOptions(fileURLToPath(new URL('../out/preload/index.cjs', import.meta.url))));
}
