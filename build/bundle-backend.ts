/**
 * Bundles the backend's two entries (the `--server` CLI and the child the desktop app forks) into
 * out/backend/: loading one file is most of what makes the backend start fast. Code loaded on
 * first use (`import()`: OIDC, mDNS, TLS certificates, the proxy) goes to chunks beside them.
 * Native modules stay external: they load their binary relative to their own folder.
 */
import { build, type BuildOptions } from 'esbuild';
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
    logLevel: 'warning',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build(backendBuildOptions(fileURLToPath(new URL('../out/backend', import.meta.url))));
}
