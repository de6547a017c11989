/**
 * Bundles the backend's two entries (the `--server` CLI and the child the desktop app forks) into
 * out/backend/: loading one file is most of what makes the backend start fast. Code loaded on
 * first use (`import()`: OIDC, mDNS, TLS certificates, the proxy) goes to chunks beside them.
 * Native modules stay external: they load their binary relative to their own folder.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = (path: string) => fileURLToPath(new URL(`../backend/src/${path}`, import.meta.url));

/**
 * Packages loaded from node_modules, never bundled: the native addons (tree-sitter behind
 * curlconverter's cURL parser), and the import parsers, large and loaded only on first import.
 */
export const externalPackages = [
  'level',
  'classic-level',
  '@node-rs/argon2',
  'tree-sitter',
  'tree-sitter-bash',
  'curlconverter',
  'postman-collection',
  '@apidevtools/swagger-parser',
  // CommonJS, loaded with import() on the first YAML import: bundled, its chunk would export only `default`.
  'yaml',
  // pg's optional native binding, required only by `pg.native`, which api-store never uses.
  'pg-native',
];

/**
 * zod's namespace (`z`) re-exports every locale, about 360 KB of the start's 1.6 MB of code to
 * compile. The store speaks English only (zod's default locale, which its schemas module imports
 * on its own): the locales index resolves to English alone.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: args.importer, namespace: 'zod-english-only' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from '../locales/en.js';",
      resolveDir: dirname(args.path),
    }));
  },
};

export function backendBuildOptions(outdir: string): BuildOptions {
  return {
    entryPoints: { cli: source('cli.ts'), child: source('child.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: externalPackages,
    // Bundled CommonJS dependencies call require() for Node's own modules; ESM has no require.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = fileURLToPath(new URL('../out/backend', import.meta.url));
  // Chunk names carry a hash of their contents: an earlier build's chunks would stay beside the new ones and ship with the package.
  await rm(join(outdir, 'chunks'), { recursive: true, force: true });
  await build(backendBuildOptions(outdir));
}
