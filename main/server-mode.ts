import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { App } from 'electron';
import { createLaunchToken } from '../backend/src/auth/local-token.js';
import { parseServerArgs, serverHelp, UsageError } from '../backend/src/cli-args.js';
import { configSchema } from '../backend/src/config.js';
import { createLogger } from '../backend/src/logger.js';
import { startStore } from '../backend/src/server.js';

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

export interface ServerModeIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Where SIGTERM and SIGINT arrive (the process). */
  signals: Pick<NodeJS.EventEmitter, 'once'>;
}

/**
 * `electron . --server`: the store headless in this process, with the flags of the plain-Node
 * `api-store --server` (the same parser). No window, no tray; exits on SIGTERM or SIGINT.
 */
export async function runServerMode(app: Pick<App, 'exit'>, args: string[], io: ServerModeIo): Promise<void> {
  let parsed;
  try {
    parsed = parseServerArgs(args, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`api-store: ${error.message}\n\n${serverHelp}`);
    return app.exit(2);
  }
  if (parsed.help) {
    io.stdout(serverHelp);
    return app.exit(0);
  }
  const tokenFromEnv = io.env.API_STORE_TOKEN;
  const config = configSchema.safeParse({ ...parsed.config, mode: 'server', token: tokenFromEnv ?? createLaunchToken() });
  if (!config.success) {
    io.stderr(`api-store: ${config.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n')}\n`);
    return app.exit(2);
  }
  let running;
  try {
    running = await startStore(config.data, createLogger(config.data.logLevel));
  } catch (error) {
    io.stderr(`api-store: ${(error as Error).message}\n`);
    return app.exit(1);
  }
  const { host, prefix, dataDir, token } = config.data;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${running.port}${prefix}`;
  const infoFile = join(dataDir, 'server.json');
  await writeFile(infoFile, JSON.stringify({ url, pid: process.pid, ...(tokenFromEnv ? {} : { token }) }, null, 2) + '\n', { mode: 0o600 });
  await chmod(infoFile, 0o600);
  io.stdout(`api-store listening on ${url}\n`);
  io.stdout(tokenFromEnv ? 'token: from API_STORE_TOKEN\n' : `token: in ${infoFile}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await running.stop();
    await rm(infoFile, { force: true });
    app.exit(0);
  };
  io.signals.once('SIGTERM', stop);
  io.signals.once('SIGINT', stop);
}
