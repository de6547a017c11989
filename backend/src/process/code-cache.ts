/**
 * V8's code cache for the built backend. Compiling the bundle is most of what a start costs, and
 * V8 can hand back, at the next start, the code it compiled for this one. Node 20 has no compile
 * cache of its own (`module.enableCompileCache` came in Node 22), and its `vm` caches a script's
 * code, not an ES module's: the built entries (out/backend/cli.js, child.js) run their CommonJS
 * bundle (cli.cjs, child.cjs) through `runBundle`. The bundle has no `import()`: Node 20 loses a
 * script's dynamic import callback when the script's code comes from the cache, so the build turns
 * import() into require(). v8-compile-cache, which hooks require(), has the same limit and keeps
 * its cache in the shared tmp folder.
 *
 * A code cache is code the process runs, and V8 checks little more than the source's length: the
 * file is trusted only as a secret is (this user's own, 0600, not a link, in a private folder),
 * and its name carries a hash of the bundle (taken by the build) and V8's version.
 */
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';
import { ensurePrivateDir, isUnfinishedPrivateFile, readPrivateBytes, UntrustedPathError, writePrivateFile } from '../data-dir.js';
import type { Logger } from '../logger.js';

/** What the start found: `used` skipped compiling what the last start ran; `refused` is a file that may have been planted. */
export type CodeCacheStatus = 'used' | 'rejected' | 'missing' | 'refused' | 'unreadable' | 'off';

interface StartupCode {
  status: CodeCacheStatus;
  /** Writes the code compiled so far; a no-op when the start used a cache. */
  save(): Promise<void>;
}

// How the bundle reaches the loader that runs it: two copies of this module, one in each.
const startupCodeKey = Symbol.for('api-store.startup-code');
const globals = globalThis as { [startupCodeKey]?: StartupCode };

/**
 * The per-user cache folder: API_STORE_CODE_CACHE (a folder, or `off`), else the platform's
 * cache folder (XDG_CACHE_HOME or ~/.cache, ~/Library/Caches, %LOCALAPPDATA%) with api-store in it.
 */
export function codeCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, home = homedir()): string | undefined {
  const chosen = env.API_STORE_CODE_CACHE;
  if (chosen === 'off') return undefined;
  if (chosen) return chosen;
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'api-store', 'Cache');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'api-store');
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.cache'), 'api-store');
}

async function readCache(file: string): Promise<{ cachedData?: Buffer; status: CodeCacheStatus }> {
  try {
    return { cachedData: await readPrivateBytes(file, 'The code cache'), status: 'used' };
  } catch (error) {
    if (error instanceof UntrustedPathError) return { status: 'refused' };
    // The cache only saves time: whatever else keeps it from being read must not keep the store from starting.
    return { status: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable' };
  }
}

/**
 * Runs the CommonJS bundle at `bundle`, whose SHA-256 the build took (`hash`), with the code
 * cache kept in `cacheDir` (none when undefined), as Node would run it with require(). The bundle
 * saves the cache once the store has started (`saveStartupCode`), so the cache holds the code a
 * start runs, not only the top level.
 */
export async function runBundle(bundle: string, hash: string, cacheDir: string | undefined): Promise<void> {
  // Read straight into a string: a Buffer of the 3 MB bundle would stay in memory until a GC, which an idle store may not run for long.
  const source = readFileSync(bundle, 'utf8');
  const name = basename(bundle, '.cjs');
  const file = cacheDir && join(cacheDir, `${name}-${hash}-v8-${process.versions.v8}.bin`);
  const found = file ? await readCache(file) : { status: 'off' as const };
  // The build wrapped the bundle as Module.wrap would: the script's value is the module's function.
  const script = new Script(source, { filename: bundle, cachedData: found.cachedData });
  const status = script.cachedDataRejected ? 'rejected' : found.status;
  globals[startupCodeKey] = {
    status,
    async save() {
      if (!file || status === 'used') return;
      const code = script.createCachedData();
      const folder = dirname(file);
      await ensurePrivateDir(folder);
      // Caches of earlier builds or V8 versions, and what a crash left of a write.
      for (const entry of await readdir(folder)) {
        const earlier = entry.startsWith(`${name}-`) && entry.endsWith('.bin') && entry !== basename(file);
        if (earlier || isUnfinishedPrivateFile(entry, `${name}-`)) await rm(join(folder, entry), { force: true });
      }
      await writePrivateFile(file, code);
    },
  };
  const module = { exports: {} };
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}

/**
 * Called once the store has started: saves the code compiled so far when the backend runs from
 * its bundle, and logs what the start found. Before `limitHeapGrowth`, which changes V8's flags:
 * V8 rejects a cache made under other flags than the next start's.
 */
export function saveStartupCode(log: Logger): void {
  const startup = globals[startupCodeKey];
  if (!startup) return;
  log.info('startup code cache', { status: startup.status });
  startup.save().then(
    () => log.debug('startup code cache saved'),
    (error: unknown) => log.warn('startup code cache not saved', { error: String(error) }),
  );
}
