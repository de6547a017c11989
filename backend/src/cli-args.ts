import { BlockList, isIP } from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultDataDir } from './config.js';

/** Flags of `api-store --server`, shared with `electron . --server`. */
export const serverHelp = `Usage: api-store --server [options]
       api-store mode "multi-user" [options]      (net-store style; same as --server --mode multi-user)
       api-store admin create --username <name> [--name <display name>] [--data-dir <path>]
                                                  (the first admin of a multi-user store; password on stdin)
       api-store import <file> [--space <key>] [--to project|history] [--data-dir <path>]
                                                  (Postman, Insomnia, HAR, OpenAPI, Swagger, cURL or api-store file;
                                                  a HAR is streamed, into a project or with --to history into history)
       api-store export <key> [--format api-store|postman-v2.1] [--out <file>] [--data-dir <path>]
       api-store backup --out <file> [--data-dir <path>]
                                                  (a consistent backup, whether the store runs or not)
       api-store restore <file> [--data-dir <empty or new path>]
                                                  (checks the file's checksum first; never into a used dir)
       api-store rotate-key [--data-dir <path>] [--key-file <path>]
                                                  (re-seals every secret under a new data key, through
                                                  the running store or offline)
       api-store verify [--data-dir <path>]       (checks every record and index of a stopped store;
                                                  exits 1 when it finds a problem)
       api-store copy-storage --from <data dir or postgres:// URL> --to <empty data dir or postgres:// URL>
                                                  (moves a store between LevelDB and PostgreSQL, then
                                                  verifies the copy; a side left out is API_STORE_STORAGE_URL)

Runs the store headless. Prints the address; the token is in <data-dir>/server.json (mode 0600)
unless API_STORE_TOKEN is set. In multi-user mode teammates sign in instead (POST /v1/sessions),
the listener speaks TLS with a self-signed certificate whose fingerprint is printed, and
--host decides who can reach it.

Options:
  --server               run the store headless (required)
  --host <address>       address to listen on (default 127.0.0.1)
  --port <number>        port to listen on (default 0: any free port)
  --data-dir <path>      where the data lives (default: the platform's user data folder)
  --prefix <path>        API path prefix (default /v1)
  --durability <level>   process (default: survives a crash of the store) or machine (fsync every write)
  --storage <url>        keep the records in PostgreSQL (postgres://user@host:port/db) instead of
                         LevelDB in the data dir; several instances may share one database. Prefer
                         API_STORE_STORAGE_URL when the URL holds a password: argv is visible to others
  --log-level <level>    debug, info (default), warn, error or silent
  --mode <mode>          single-user (default) or multi-user
  --auth-type <type>     multi-user sign-in: local (default: invites and passwords) or oidc
  --oidc-issuer-uri <url>, --oidc-client-id <id>, --oidc-redirect-base <url>
                         the OpenID Connect provider (with --auth-type oidc)
  --oidc-client-secret <secret>  prefer API_STORE_OIDC_CLIENT_SECRET: argv is visible to other users
  --key-file <path>      the data key that seals secrets at rest (a 0600 file, made on first start
                         when absent); or API_STORE_KEY_FILE; default <data-dir>/data.key
  --session-secret <secret>      session signing key (at least 32 characters); prefer
                         API_STORE_SESSION_SECRET, or nothing: a key is generated in the data dir
  --insecure-http        multi-user over plain HTTP, or single-user on a --host other than loopback
                         (only behind a TLS proxy or on a trusted network)
  --allow-origin <origin>  let a browser page of this origin (e.g. http://localhost:3000) call the
                         API, with CORS; repeat for more origins
  --max-body-mb <n>      largest request body other than a file's contents, in MB (default 1)
  --max-media-mb <n>     largest file contents (?alt=media), in MB (default 10)
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
    storage?: string;
    logLevel?: string;
    mode: 'server' | 'multi-user';
    auth: {
      type?: string;
      oidc?: { issuerUri?: string; clientId?: string; clientSecret?: string; redirectBase?: string };
      sessionSecret?: string;
    };
    insecureHttp: boolean;
    secrets: { keyFile?: string; keyFileOrigin?: string };
    allowedOrigins: string[];
    limits: { metadataBytes?: number; mediaBytes?: number };
  };
  /** Things to tell the operator, e.g. that a secret was given on the command line. */
  warnings: string[];
}

/** net-store called the two headless modes single-user and multi-user. */
function modeOf(value: string | undefined): 'server' | 'multi-user' {
  if (value === undefined || value === 'single-user' || value === 'server') return 'server';
  if (value === 'multi-user') return 'multi-user';
  throw new UsageError(`the mode must be single-user or multi-user, not "${value}"`);
}

/** A secret from the environment, or from argv with a warning (argv is visible in the process list). */
function secretOf(flag: string, fromArgv: string | undefined, envName: string, env: NodeJS.ProcessEnv, warnings: string[]): string | undefined {
  if (fromArgv === undefined) return env[envName] || undefined;
  warnings.push(`--${flag} is visible to other users of this machine in the process list; prefer ${envName}.`);
  return fromArgv;
}

/** The storage URL, from --storage or API_STORE_STORAGE_URL; only one with a password earns the argv warning. */
function storageUrlOf(fromArgv: string | undefined, env: NodeJS.ProcessEnv, warnings: string[]): string | undefined {
  if (fromArgv === undefined) return env.API_STORE_STORAGE_URL || undefined;
  if (URL.canParse(fromArgv) && new URL(fromArgv).password) {
    warnings.push('--storage holds a password, visible to other users of this machine in the process list; prefer API_STORE_STORAGE_URL.');
  }
  return fromArgv;
}

export class UsageError extends Error {}

/** The data key file: `--key-file`, else API_STORE_KEY_FILE, else the store's default in the data dir. */
export function keyFileOf(flag: string | undefined, env: NodeJS.ProcessEnv): { keyFile?: string; keyFileOrigin?: string } {
  if (flag !== undefined) return { keyFile: flag, keyFileOrigin: '--key-file' };
  if (env.API_STORE_KEY_FILE) return { keyFile: env.API_STORE_KEY_FILE, keyFileOrigin: 'API_STORE_KEY_FILE' };
  return {};
}

type CommandArgs<T extends NonNullable<ParseArgsConfig['options']>> = ReturnType<typeof parseArgs<{ args: string[]; strict: true; allowPositionals: true; options: T }>>;

/** A subcommand's arguments: Node's parseArgs (strict, positionals allowed), a bad flag as a UsageError. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T): CommandArgs<T> {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

function isLoopback(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  if (address === 'localhost') return true;
  const family = isIP(address);
  return family !== 0 && loopback.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Single-user mode has no accounts and no TLS: the launch token is the whole of its security, so
 * it would cross the network in clear text. Teammates get multi-user mode instead.
 */
function refusePlainHttpOffLoopback(host: string | undefined, mode: 'server' | 'multi-user', insecureHttp: boolean): void {
  if (host === undefined || mode !== 'server' || insecureHttp || isLoopback(host)) return;
  throw new UsageError(
    `--host ${host} is not a loopback address, and single-user mode serves its API and launch token over plain HTTP. ` +
      'To share the store with teammates, use multi-user mode (--mode multi-user: accounts and TLS). ' +
      'To serve single-user over plain HTTP anyway (behind a TLS proxy or on a trusted network), add --insecure-http.',
  );
}

/** Config paths that do not spell their flag: the token and the multi-user settings. */
const configSources: Record<string, string> = {
  token: 'API_STORE_TOKEN',
  storage: '--storage (or API_STORE_STORAGE_URL)',
  'auth.type': '--auth-type',
  'auth.sessionSecret': '--session-secret (or API_STORE_SESSION_SECRET)',
  'auth.oidc.issuerUri': '--oidc-issuer-uri',
  'auth.oidc.clientId': '--oidc-client-id',
  'auth.oidc.clientSecret': '--oidc-client-secret (or API_STORE_OIDC_CLIENT_SECRET)',
  'auth.oidc.redirectBase': '--oidc-redirect-base',
};

/** Where the operator set a config value, for error messages: `dataDir` is `--data-dir`. */
export function configSource(path: PropertyKey[]): string {
  const key = path.map(String).join('.');
  return configSources[key] ?? `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** An origin as browsers send it: scheme://host[:port], nothing after. */
function originOf(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/i.test(value)) {
    throw new UsageError(`--allow-origin must be an origin such as http://localhost:3000, not "${value}"`);
  }
  return value;
}

/** A size flag in MB as bytes. */
function bytesOf(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const megabytes = Number(value);
  if (!(Number.isFinite(megabytes) && megabytes > 0 && megabytes <= 1024)) {
    throw new UsageError(`--${flag} must be a number of megabytes above 0 and at most 1024, not "${value}"`);
  }
  return Math.floor(megabytes * 1024 * 1024);
}

export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerArgs {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        server: { type: 'boolean', default: false },
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        prefix: { type: 'string' },
        durability: { type: 'string' },
        storage: { type: 'string' },
        'log-level': { type: 'string' },
        mode: { type: 'string' },
        'auth-type': { type: 'string' },
        'oidc-issuer-uri': { type: 'string' },
        'oidc-client-id': { type: 'string' },
        'oidc-client-secret': { type: 'string' },
        'oidc-redirect-base': { type: 'string' },
        'session-secret': { type: 'string' },
        'key-file': { type: 'string' },
        'insecure-http': { type: 'boolean', default: false },
        'allow-origin': { type: 'string', multiple: true },
        'max-body-mb': { type: 'string' },
        'max-media-mb': { type: 'string' },
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
  // `api-store mode "multi-user"`: the net-store spelling of `--server --mode multi-user`.
  const [command, modeArgument, ...rest] = positionals;
  if (command !== undefined && (command !== 'mode' || modeArgument === undefined || rest.length > 0 || values.mode !== undefined)) {
    throw new UsageError(`unexpected argument "${positionals.join(' ')}"`);
  }
  const warnings: string[] = [];
  const oidc = {
    issuerUri: values['oidc-issuer-uri'],
    clientId: values['oidc-client-id'],
    clientSecret: secretOf('oidc-client-secret', values['oidc-client-secret'], 'API_STORE_OIDC_CLIENT_SECRET', env, warnings),
    redirectBase: values['oidc-redirect-base'],
  };
  const mode = modeOf(modeArgument ?? values.mode);
  const insecureHttp = values['insecure-http'] ?? false;
  refusePlainHttpOffLoopback(values.host, mode, insecureHttp);
  return {
    help: values.help ?? false,
    server: (values.server ?? false) || command === 'mode',
    warnings,
    config: {
      mode,
      auth: {
        type: values['auth-type'],
        oidc: values['auth-type'] === 'oidc' ? oidc : undefined,
        sessionSecret: secretOf('session-secret', values['session-secret'], 'API_STORE_SESSION_SECRET', env, warnings),
      },
      insecureHttp,
      allowedOrigins: (values['allow-origin'] ?? []).map(originOf),
      limits: { metadataBytes: bytesOf('max-body-mb', values['max-body-mb']), mediaBytes: bytesOf('max-media-mb', values['max-media-mb']) },
      dataDir: values['data-dir'] ?? defaultDataDir(env),
      secrets: keyFileOf(values['key-file'], env),
      host: values.host,
      port,
      prefix: values.prefix,
      durability: values.durability,
      storage: storageUrlOf(values.storage, env, warnings),
      logLevel: values['log-level'],
    },
  };
}
