import { existsSync } from 'node:fs';

/**
 * `electron . --server`: the store headless inside the Electron binary, for machines that have
 * the app but not Node. It is the plain-Node `api-store --server` (backend/src/cli.ts) run in
 * this process, so the flags, help, output, server.json and signal handling are the CLI's own.
 */

/**
 * The app's own arguments: Electron's argv starts with the executable, then (when run as
 * `electron .`, `process.defaultApp`) the app path.
 */
export function appArgv(argv: readonly string[], defaultApp: boolean): string[] {
  return argv.slice(defaultApp ? 2 : 1);
}

export function wantsServerMode(args: readonly string[]): boolean {
  return args.includes('--server');
}

/**
 * Runs the CLI with `args`. The CLI reads `process.argv.slice(2)`, which in Electron is not where
 * the app's arguments are, so they are put there first. The CLI exits the process on SIGTERM and
 * SIGINT (after closing the store) and on errors.
 */
export async function runServerMode(args: readonly string[]): Promise<void> {
  process.argv = [process.execPath, 'api-store', ...args];
  // Built (out/main/), the backend bundle sits beside main; from the sources there is none.
  const bundle = new URL('../backend/cli.js', import.meta.url);
  await (existsSync(bundle) ? import(bundle.href) : import('../backend/src/cli.js'));
}
