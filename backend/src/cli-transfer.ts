/**
 * `api-store import FILE` and `api-store export KEY`: move projects in and out from a shell.
 * They open the data dir directly when no store runs on it; when one does (LevelDB's lock), they
 * go through its HTTP API with the token it wrote to server.json.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { LOCAL_OWNER } from './auth/caller.js';
import { keyFileOf, parseCommandArgs, UsageError } from './cli-args.js';
import { dataDirKeySource } from './secrets/key-source.js';
import { openSecrets } from './secrets/secrets.js';
import { configSchema, defaultDataDir } from './config.js';
import { exportPostman } from './projects/export/postman.js';
import { applyImport, importHarStream, planImport } from './projects/import/index.js';
import { importHarToHistory } from './projects/import/har-history.js';
import { HAR_SNIFF_BYTES, startsLikeHar } from './projects/import/detect.js';
import { exportStoreFormat } from './projects/export/api-store.js';
import { fileSections, type FileRecord } from './store/file-records.js';
import { openDataDir } from './store/open-data-dir.js';
import { StoreLockedError } from './store/open-errors.js';
import { StoreError } from './store/store-error.js';
import { runningServerOn } from './running-server.js';
import { Store } from './store/store.js';

export interface TransferIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
}

const formats = ['api-store', 'postman-v2.1'] as const;

/** The running store's address and token, for when the data dir is locked by it. */
async function runningServer(dataDir: string): Promise<{ url: string; token: string }> {
  const server = await runningServerOn(dataDir, process.env);
  if (!server?.token) throw new StoreLockedError(dataDir);
  return { url: server.url, token: server.token };
}

async function callServer(dataDir: string, path: string, init: RequestInit = {}): Promise<unknown> {
  const server = await runningServer(dataDir);
  const response = await fetch(`${server.url}${path}`, { ...init, headers: { ...init.headers, Authorization: `Bearer ${server.token}` } });
  const body = (await response.json()) as { detail?: string };
  if (!response.ok) throw new Error(`the running store refused: ${body.detail ?? response.statusText}`);
  return body;
}

/** Runs `work` on the store in `dataDir`, or answers `locked()` when a running store holds it. */
async function withStore<T>(dataDir: string, env: NodeJS.ProcessEnv, work: (store: Store) => Promise<T>, locked: () => Promise<T>): Promise<T> {
  let storage;
  try {
    storage = await openDataDir(dataDir, { sync: true });
  } catch (error) {
    if (error instanceof StoreLockedError) return locked();
    throw error;
  }
  try {
    const store = await Store.open(storage);
    // Secrets in an import are sealed under the store's data key, as the running store would.
    store.secrets = await openSecrets(store, dataDirKeySource(dataDir, keyFileOf(undefined, env)));
    return await work(store);
  } finally {
    await storage.close();
  }
}

/** The user an offline import acts as: the target space's owner, or the single-user owner. */
async function actingUser(store: Store, space: string | undefined): Promise<string> {
  if (space === undefined) return LOCAL_OWNER;
  const record = await store.storage.get<FileRecord>(fileSections.files, space);
  return record?.owner ?? LOCAL_OWNER;
}

const contentTypeOf = (file: string, text: string) =>
  file.endsWith('.json') || /^\s*[{[]/.test(text) ? 'application/json' : file.endsWith('.sh') || file.endsWith('.txt') ? 'text/plain' : 'application/yaml';

/** Whether a file is a HAR, from its first bytes: a HAR is streamed, never read whole. */
async function isHarFile(file: string): Promise<boolean> {
  const handle = await open(file);
  try {
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(16 * HAR_SNIFF_BYTES) });
    return startsLikeHar(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

export async function runImportCommand(argv: string[], io: TransferIo): Promise<void> {
  const { values, positionals } = parseCommandArgs(argv, { space: { type: 'string' }, to: { type: 'string' }, 'data-dir': { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('usage: api-store import FILE [--space KEY] [--to project|history] [--data-dir PATH]');
  const to = (values.to as string | undefined) ?? 'project';
  if (to !== 'project' && to !== 'history') throw new UsageError('--to must be project or history');
  const [file] = positionals;
  const dataDir = (values['data-dir'] as string | undefined) ?? defaultDataDir(io.env);
  const space = values.space as string | undefined;
  const { limits } = configSchema.parse({ dataDir, token: 'x'.repeat(32) });
  const query = new URLSearchParams({ ...(space ? { parent: space } : {}), ...(to === 'history' ? { to } : {}) }).toString();
  const path = `/import${query ? `?${query}` : ''}`;
  let report: unknown;
  const har = await isHarFile(file);
  if (to === 'history' && !har) throw new UsageError('--to history takes a HAR file');
  if (har) {
    report = await withStore(
      dataDir,
      io.env,
      async (store) => {
        const user = await actingUser(store, space);
        const importer = to === 'history' ? importHarToHistory : importHarStream;
        return importer(store, user, space, createReadStream(file), limits);
      },
      // A Node stream is an async iterable that fetch pulls as it sends (Readable.toWeb would read the file ahead).
      () => callServer(dataDir, path, { method: 'POST', body: createReadStream(file) as unknown as BodyInit, duplex: 'half', headers: { 'Content-Type': 'application/json' } } as RequestInit),
    );
  } else {
    const text = await readFile(file, 'utf8');
    const type = contentTypeOf(file, text);
    report = await withStore(
      dataDir,
      io.env,
      async (store) => {
        const source = type === 'application/json' ? { json: JSON.parse(text) as unknown } : { text };
        return applyImport(store, await actingUser(store, space), space, await planImport(source, limits.jsonDepth), limits);
      },
      () => callServer(dataDir, path, { method: 'POST', body: text, headers: { 'Content-Type': type } }),
    );
  }
  io.stdout(`${JSON.stringify(report, null, 2)}\n`);
}

export async function runExportCommand(argv: string[], io: TransferIo): Promise<void> {
  const { values, positionals } = parseCommandArgs(argv, { format: { type: 'string' }, out: { type: 'string' }, 'data-dir': { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('usage: api-store export KEY [--format api-store|postman-v2.1] [--out FILE] [--data-dir PATH]');
  const [key] = positionals;
  const format = (values.format as string | undefined) ?? 'api-store';
  if (!formats.includes(format as never)) throw new UsageError(`--format must be ${formats.join(' or ')}`);
  const dataDir = (values['data-dir'] as string | undefined) ?? defaultDataDir(io.env);
  const exported = await withStore(
    dataDir,
    io.env,
    async (store) => {
      const record = await store.storage.get<FileRecord>(fileSections.files, key);
      const user = record?.owner ?? LOCAL_OWNER;
      return format === 'postman-v2.1' ? exportPostman(store.storage, user, key) : exportStoreFormat(store.storage, user, key);
    },
    () => callServer(dataDir, `/files/${encodeURIComponent(key)}/export?format=${format}`),
  );
  const text = `${JSON.stringify(exported, null, 2)}\n`;
  if (values.out) await writeFile(values.out as string, text);
  else io.stdout(text);
}

/** A store error as a line for the terminal. */
export const describeError = (error: unknown) => (error instanceof StoreError ? `${error.code}: ${error.message}` : (error as Error).message);
