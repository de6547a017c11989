import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { isStorageUrl } from './store/storage-url.js';

/** URL path prefix of the API: `/v1` by default, `''` serves at the root. */
const prefix = z.string().regex(/^(\/[A-Za-z0-9._~-]+)*$/, 'must look like /v1 (no trailing slash)');

/**
 * The backend's whole configuration. The parent process sends it in the `start` message and the
 * CLI builds it from flags; either way it is validated here, once.
 */
export const configSchema = z.object({
  dataDir: z.string().min(1),
  mode: z.enum(['local', 'server', 'multi-user']).default('local'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  prefix: prefix.default('/v1'),
  /** The launch token of local and server modes: 32 random bytes, base64url. */
  token: z.string().min(32),
  durability: z.enum(['process', 'machine']).default('process'),
  /**
   * A PostgreSQL URL (`postgres://user@host/db`) to keep the records in, for team servers whose
   * instances share one database; LevelDB in the data dir otherwise (always, for the desktop app).
   * The data dir still holds the instance's own files (server.json, keys, backups).
   */
  storage: z
    .string()
    .refine((value) => isStorageUrl(value) && URL.canParse(value), { message: 'must be a postgres:// URL' })
    .optional(),
  /** Origins (scheme://host[:port]) allowed to call the API from a browser context. */
  allowedOrigins: z.array(z.string().min(1)).default([]),
  /** Host names accepted on the loopback listener besides localhost, 127.0.0.1 and [::1]. */
  allowedHosts: z.array(z.string().min(1)).default([]),
  limits: z
    .object({
      metadataBytes: z.number().int().positive().default(1024 * 1024),
      mediaBytes: z.number().int().positive().default(10 * 1024 * 1024),
      /** A HAR import streams its body (held one entry at a time), so it may be far larger than other bodies. */
      harImportBytes: z.number().int().positive().default(512 * 1024 * 1024),
      /** How deeply arrays and objects may nest in a body or a stored document (encoding deeper ones overflows the stack). */
      jsonDepth: z.number().int().positive().default(100),
      /** A list page ends before the item that would take its items' JSON past this (its first item always comes). */
      pageBytes: z.number().int().positive().default(4 * 1024 * 1024),
      /** Multi-user listeners answer 429 to a user with this many requests in flight already (the local owner has no limit). */
      concurrentRequestsPerUser: z.number().int().positive().default(32),
    })
    .prefault({}),
  /**
   * History retention, enforced in the background, oldest entries first; 0 turns a limit off.
   * The count is per user, so that one user's writes never evict another's entries.
   */
  history: z
    .object({
      maxEntriesPerUser: z.number().int().nonnegative().default(100_000),
      maxAgeDays: z.number().nonnegative().default(0),
    })
    .prefault({}),
  /** The change feed (`since` resume, GET /changes) and the event sockets. */
  events: z
    .object({
      /** Feed entries are kept this long and at most this many; a `since` older than that needs a resync. */
      retentionDays: z.number().positive().default(30),
      retentionEntries: z.number().int().positive().default(1_000_000),
      compactEveryMs: z.number().int().positive().default(60 * 60 * 1000),
      /** A socket with more unsent data than this is closed with 1013. */
      maxBufferedBytes: z.number().int().positive().default(4 * 1024 * 1024),
      heartbeatMs: z.number().int().positive().default(30_000),
      /** A socket opened beyond either limit is closed with 1013 at once. */
      maxSocketsPerUser: z.number().int().positive().default(20),
      maxSockets: z.number().int().positive().default(1000),
      /** A `since` replay covers at most this many feed entries; an older `since` gets resync_required (GET /changes pages through any length). */
      maxReplayEntries: z.number().int().positive().default(10_000),
      /** When more changes than this wait for delivery, their observers are closed with 1013 (they resume with `since`). */
      maxQueuedChanges: z.number().int().positive().default(5_000),
    })
    .prefault({}),
  /** Background upkeep (history retention of every user, feed compaction) first runs this long after the start. */
  maintenance: z.object({ firstRunDelayMs: z.number().int().nonnegative().default(30_000) }).prefault({}),
  /** The store's own backups in `<dataDir>/backups/`: daily, before every schema migration, and on request. */
  backups: z
    .object({
      /** Backups kept per kind (daily, manual, before a migration); older ones are removed. */
      keep: z.number().int().positive().default(7),
      /** How often the daily backup checks whether a day has passed. */
      checkEveryMs: z.number().int().positive().default(60 * 60 * 1000),
    })
    .prefault({}),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** `POST /proxy`: teammates of a shared store reach only public addresses unless this allows more. */
  proxy: z
    .object({
      allowPrivateTargets: z.boolean().default(false),
      /** A request's timeout and redirect limit when it states none. */
      timeoutMs: z.number().int().positive().default(30_000),
      maxRedirects: z.number().int().min(0).default(10),
      /** Response body bytes returned at most; a longer body comes back `truncated`, with its size. */
      maxBodyBytes: z.number().int().positive().default(10 * 1024 * 1024),
      /** Response bytes downloaded at most; beyond it the result is `response_too_large`. */
      maxResponseBytes: z.number().int().positive().default(100 * 1024 * 1024),
    })
    .prefault({}),
  /** Accounts and sessions of multi-user mode (the LAN listener and `--mode multi-user`). */
  auth: z
    .object({
      type: z.enum(['local', 'oidc']).default('local'),
      oidc: z
        .object({
          issuerUri: z.url(),
          clientId: z.string().min(1),
          clientSecret: z.string().min(1),
          /** The store's public base URL; the callback is `<redirectBase><prefix>/auth/oidc/callback`. */
          redirectBase: z.url(),
        })
        .optional(),
      /** Session signing key given by the operator (net-store's `--session-secret`); generated and kept in the data dir otherwise. */
      sessionSecret: z.string().min(32).optional(),
      sessionLifetimeSeconds: z.number().int().positive().default(7 * 24 * 60 * 60),
    })
    .refine((auth) => auth.type !== 'oidc' || auth.oidc !== undefined, { message: 'auth type oidc needs the oidc settings', path: ['oidc'] })
    .prefault({}),
  /** The LAN sharing listener's address when the parent does not name one; `discovery` announces it over mDNS. */
  lan: z
    .object({ host: z.string().min(1).default('0.0.0.0'), port: z.number().int().min(0).max(65535).default(0), discovery: z.boolean().default(true) })
    .prefault({}),
  /**
   * The data key that seals secrets at rest, when no parent hands one over in the `start`
   * message: a 0600 key file (`--key-file` or API_STORE_KEY_FILE), `<dataDir>/data.key` by default.
   */
  secrets: z
    .object({
      keyFile: z.string().min(1).optional(),
      keyFileOrigin: z.string().optional(),
      /** A key rotation re-seals this many values per write, pausing between writes so that other writes go first. */
      rotationBatchSize: z.number().int().positive().default(200),
      rotationPauseMs: z.number().int().nonnegative().default(5),
    })
    .prefault({}),
  /** Multi-user listeners speak plain HTTP instead of TLS (`--insecure-http`): only for a trusted network or a TLS proxy in front. */
  insecureHttp: z.boolean().default(false),
});

/**
 * The config as a start parses it, once: without zod's compiled fast path, which would generate
 * and compile a parser for each of the schema's nested objects (10 ms or more of a start) to run
 * it a single time.
 */
export const parseConfig = (input: unknown) => configSchema.safeParse(input, { jitless: true });

export type StoreConfig = z.infer<typeof configSchema>;
export type StoreConfigInput = z.input<typeof configSchema>;

/** The platform's per-user data folder, where `api-store --server` keeps its data by default. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'api-store');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'api-store');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'api-store');
}
