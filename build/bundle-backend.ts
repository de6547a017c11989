/**
 * Bundles the backend's two entries (the `--server` CLI and the child the desktop app forks) into
 * out/backend/: loading one file, its compiled code cached by V8, is most of what makes the
 * backend start fast. Code loaded on first use (`import()`: OIDC, mDNS, TLS certificates, the
 * proxy) is in the bundle but runs only then. Native modules stay external: they load their
 * binary relative to their own folder.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = (path: string) => fileURLToPath(new URL(`../backend/src/${path}`, import.meta.url));

/**
 * Packages loaded from node_modules, never bundled: the native addons (tree-sitter behind
 * curlconverter's cURL parser), and the import parsers, large and loaded only on first import.
 * curlconverter itself is bundled: it is an ES module, which Node 20 cannot require() from the
 * CommonJS bundle.
 */
export const externalPackages = [
  '@node-rs/argon2',
  'tree-sitter',
  'tree-sitter-bash',
  'postman-collection',
  '@apidevtools/swagger-parser',
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

/**
 * LevelDB's JavaScript (level, classic-level, abstract-level) is bundled, so that its code comes
 * from the code cache with the rest: loading it from node_modules took 16-20 ms of each start.
 * The module that loads classic-level's native binary stays in the package's folder, where
 * node-gyp-build looks for the binary.
 */
export const levelBinding = 'classic-level/binding.js';

const levelBindingOutside: Plugin = {
  name: 'level-binding-outside',
  setup(build) {
    build.onResolve({ filter: /^\.\/binding$/ }, (args) =>
      /[\\/]node_modules[\\/]classic-level[\\/]/.test(args.importer) ? { path: levelBinding, external: true } : undefined,
    );
  },
};

/**
 * Options for the bundles: CommonJS, because Node 20 caches the compiled code of a script and not
 * of an ES module (process/code-cache.ts), and one file each, since a CommonJS bundle has no chunks.
 */
export function backendBundleOptions(outdir: string): BuildOptions {
  return {
    outdir,
    bundle: true,
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    platform: 'node',
    target: 'node20',
    external: externalPackages,
    // V8 (Node 20) loses a script's dynamic import() callback when the script comes from the code cache: import() becomes require().
    supported: { 'dynamic-import': false },
    // version.ts finds package.json from import.meta.url, which CommonJS does not have.
    inject: [fileURLToPath(new URL('import-meta-url.js', import.meta.url))],
    define: { 'import.meta.url': 'importMetaUrl' },
    // Without comments the bundle is plain ASCII, which V8 reads in a few ms where UTF-8 text took 12-28,
    // and a third smaller to read, hash and compile; names stay, so stack traces still name functions.
    minifyWhitespace: true,
    legalComments: 'external',
    plugins: [zodEnglishOnly, levelBindingOutside],
    logLevel: 'warning',
  };
}

/** The backend as it ships: cli.cjs and child.cjs in `outdir`, each run by its entry (cli.js, child.js) with the code cache (backend/src/process/code-cache.ts). */
export async function bundleBackend(outdir: string): Promise<void> {
  // Builds before this one split the bundles into chunks, which would stay and ship with the package.
  await rm(join(outdir, 'chunks'), { recursive: true, force: true });
  const entry = source('bundle-entry.ts');
  const options = backendBundleOptions(outdir);
  // Each bundle is wrapped as Node wraps a CommonJS module, so its entry compiles the file as read:
  // wrapping it there kept a second copy of the 3 MB source in memory.
  const wrapped = { banner: { js: '(function (exports, require, module, __filename, __dirname) {' }, footer: { js: '})' } };
  const bundles = { cli: source('cli.ts'), child: source('child.ts') };
  await build({ ...options, ...wrapped, entryPoints: bundles });
  // Each start names its code cache by the bundle's hash, taken here once rather than at every start (3-6 ms).
  const hashes = Object.fromEntries(
    await Promise.all(Object.keys(bundles).map(async (name) => [name, createHash('sha256').update(await readFile(join(outdir, `${name}.cjs`))).digest('hex').slice(0, 16)])),
  );
  const define = { BUNDLE_HASHES: JSON.stringify(hashes) };
  await build({ entryPoints: { cli: entry, child: entry }, outdir, bundle: true, format: 'esm', platform: 'node', target: 'node20', define, logLevel: 'warning' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleBackend(fileURLToPath(new URL('../out/backend', import.meta.url)));
}
