import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { configSchema, type StoreConfigInput } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import type { RunningStore, StoreOptions } from '../../backend/src/server.js';
import { openStorage } from '../../backend/src/store/open-data-dir.js';
import type { Storage } from '../../backend/src/store/storage.js';
import { sharedPostgres, testStorage } from './postgres.js';

/**
 * The server the tests start: the source, or with API_STORE_TEST_BUNDLE (the path of a bundled
 * server, see test/api-on-bundle.ts) the backend as esbuild bundles it for the app. A test that
 * throws or expects one of the store's errors takes the class from here: a bundle has its own copy.
 */
const bundle = process.env.API_STORE_TEST_BUNDLE;
const server = (await import(bundle ? pathToFileURL(bundle).href : './bundled-server.js')) as typeof import('./bundled-server.js');
const { startStore } = server;
export const { NewerStoreError, StoreUnavailableError } = server;

export interface TestStore {
  running: RunningStore;
  dataDir: string;
  token: string;
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  /** fetch below the prefix with the launch token (unless headers say otherwise); JSON bodies are encoded. */
  api(path: string, init?: Omit<RequestInit, 'body'> & { body?: unknown; token?: string | null }): Promise<Response>;
  /** Stops the store; keeps the data dir for a restart when `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function makeTempDir(prefix = 'api-store-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The database of each data dir a test store ran on PostgreSQL, so that a restart on the dir finds its records. */
const databases = new Map<string, string>();

/** The storage URL of a test store on `dataDir`: none on LevelDB; on PostgreSQL the dir's database, new on first use. */
async function storageFor(dataDir: string): Promise<string | undefined> {
  if (testStorage !== 'postgres') return undefined;
  let url = databases.get(dataDir);
  if (!url) {
    url = await (await sharedPostgres()).createDatabase();
    databases.set(dataDir, url);
  }
  return url;
}

/** The storage of a stopped test store's data dir (LevelDB, or its PostgreSQL database), to look at its records. */
export async function openStoredRecords(dataDir: string): Promise<Storage> {
  return openStorage({ dataDir, storage: databases.get(dataDir), durability: 'process' });
}

/**
 * A real store serving on 127.0.0.1 port 0: on a temp LevelDB, or with API_STORE_TEST_STORAGE=postgres
 * on a new database of the test file's PostgreSQL server (the data dir keeps the other files).
 */
export async function startTestStore(overrides: Partial<StoreConfigInput> = {}, options: StoreOptions = {}): Promise<TestStore> {
  const dataDir = overrides.dataDir ?? (await makeTempDir());
  const token = overrides.token ?? createLaunchToken();
  const storage = overrides.storage ?? (await storageFor(dataDir));
  const config = configSchema.parse({ logLevel: 'silent', ...overrides, dataDir, token, storage });
  const running = await startStore(config, createLogger(config.logLevel), options);
  const baseUrl = `http://127.0.0.1:${running.port}${config.prefix}`;
  return {
    running,
    dataDir,
    token,
    baseUrl,
    api(path, init = {}) {
      const { body, token: tokenOverride, headers, ...rest } = init;
      const h = new Headers(headers);
      const bearer = tokenOverride === undefined ? token : tokenOverride;
      if (bearer !== null && !h.has('Authorization')) h.set('Authorization', `Bearer ${bearer}`);
      let encoded: BodyInit | undefined;
      if (body !== undefined) {
        encoded = typeof body === 'string' ? body : JSON.stringify(body);
        if (!h.has('Content-Type')) h.set('Content-Type', 'application/json');
      }
      return fetch(`${baseUrl}${path}`, { ...rest, headers: h, body: encoded });
    },
    async stop(options = {}) {
      await running.stop();
      if (!options.keepData) {
        await rm(dataDir, { recursive: true, force: true });
        databases.delete(dataDir);
      }
    },
  };
}
