import { parseArgs } from 'node:util';
import { defaultDataDir } from './config.js';

/** Flags of `api-store --server`, shared with `electron . --server`. */
export const serverHelp = `Usage: api-store --server [options]

Runs the store headless. Prints the address; the token is in <data-dir>/server.json (mode 0600)
unless API_STORE_TOKEN is set.

Options:
  --server               run the store headless (required)
  --host <address>       address to listen on (default 127.0.0.1)
  --port <number>        port to listen on (default 0: any free port)
  --data-dir <path>      where the data lives (default: the platform's user data folder)
  --prefix <path>        API path prefix (default /v1)
  --durability <level>   process (default: survives a crash of the store) or machine (fsync every write)
  --log-level <level>    debug, info (default), warn, error or silent
  -h, --help             show this help
`;

export interface ServerArgs {
  help: boolean;
  server: boolean;
  /** The config without the token, which never comes from argv. */
  config: {
    dataDir: string;
    host?: string;
    port?: number;
    prefix?: string;
    durability?: string;
    logLevel?: string;
  };
}

export class UsageError extends Error {}

export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'boolean', default: false },
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        prefix: { type: 'string' },
        durability: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new UsageError(`--port must be a number from 0 to 65535, not "${values.port}"`);
  }
  return {
    help: values.help ?? false,
    server: values.server ?? false,
    config: {
      dataDir: values['data-dir'] ?? defaultDataDir(env),
      host: values.host,
      port,
      prefix: values.prefix,
      durability: values.durability,
      logLevel: values['log-level'],
    },
  };
}
