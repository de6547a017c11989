import { join } from 'node:path';
import { readPrivateFile, UntrustedPathError } from './data-dir.js';

/** Where a store running on a data dir answers, and its launch token when there is one. */
export interface RunningServer {
  url: string;
  token?: string;
}

/**
 * The store running on `dataDir`, from the `server.json` that `--server` writes (read as a
 * private file: a planted one would send the token elsewhere, so it is refused, not guessed
 * around). Undefined when there is none, as when the desktop app holds the store.
 */
export async function runningServerOn(dataDir: string, env: NodeJS.ProcessEnv): Promise<RunningServer | undefined> {
  let info: { url?: unknown; token?: unknown };
  try {
    info = JSON.parse(await readPrivateFile(join(dataDir, 'server.json')));
  } catch (error) {
    if (error instanceof UntrustedPathError) throw error;
    return undefined;
  }
  if (typeof info?.url !== 'string') return undefined;
  const token = typeof info.token === 'string' ? info.token : env.API_STORE_TOKEN;
  return token === undefined ? { url: info.url } : { url: info.url, token };
}
