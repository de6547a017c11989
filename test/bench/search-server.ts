/**
 * api-store for the search bench, in its own process on a temp data dir removed at exit (retention
 * off). It seeds through the store layer when asked and answers `{ms, seq}`:
 * - `{type: 'files', count}`: `count` files of the local owner, in 100 spaces at its root, named
 *   from a small vocabulary (so a word matches many files) and a unique word per file;
 * - `{type: 'history', count}`: `count` history entries (the history bench's realistic entry).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { configSchema } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import { startStoreWhileLoading } from '../../backend/src/process/start-store.js';
import { placementIn, rootPlacement } from '../../backend/src/store/file-search.js';
import { stageNewFile } from '../../backend/src/store/files.js';
import { createHistory, historyAccessOf } from '../../backend/src/store/history.js';
import { withFields } from '../../backend/src/store/with-fields.js';
import { benchEntry } from './suites/history.js';

const FILE_BATCH = 1_000;
const HISTORY_BATCH = 10_000;
const SPACES = 100;
const vocabulary = ['orders', 'customers', 'billing', 'invoices', 'shipping', 'inventory', 'reports', 'payments', 'accounts', 'catalog'];

const dataDir = await mkdtemp(join(tmpdir(), 'api-store-bench-search-'));
const token = createLaunchToken();
const config = configSchema.parse({ dataDir, token, logLevel: 'silent', history: { maxEntriesPerUser: 0, maxAgeDays: 0 } });
const running = await startStoreWhileLoading(config, createLogger('silent'));
const { store } = running.services;
let spaces: string[] = [];
let filesSeeded = 0;
let historySeeded = 0;
/** Every seeded entry is older than this, later ones older than earlier ones. */
const newest = Date.now() - 1e9;

async function seedFiles(count: number): Promise<void> {
  if (!spaces.length) {
    spaces = await store.mutate((m) =>
      Array.from({ length: SPACES }, (_, n) => stageNewFile(m, { input: { kind: 'Core#Space', info: { name: `space ${n}` } }, owner: LOCAL_OWNER, placement: rootPlacement }).key),
    );
  }
  for (let done = 0; done < count; done += FILE_BATCH) {
    await store.mutate((m) => {
      for (let i = done; i < Math.min(count, done + FILE_BATCH); i++) {
        const n = filesSeeded + i;
        const name = `${vocabulary[n % vocabulary.length]} ${vocabulary[Math.floor(n / 10) % vocabulary.length]} item${n}`;
        stageNewFile(m, { input: { kind: 'Core#HttpProject', info: { name, description: `project number ${n}` } }, owner: LOCAL_OWNER, placement: placementIn({ key: spaces[n % SPACES], owner: LOCAL_OWNER }, rootPlacement) });
      }
    });
  }
  filesSeeded += count;
}

async function seedHistory(count: number): Promise<void> {
  const access = historyAccessOf(store.storage, LOCAL_OWNER);
  for (let done = 0; done < count; done += HISTORY_BATCH) {
    const size = Math.min(HISTORY_BATCH, count - done);
    const offset = historySeeded + done;
    // Older than everything seeded before, so that each size reads the same newest entries.
    await createHistory(store, access, Array.from({ length: size }, (_, i) => withFields(benchEntry(offset + i), { created: newest - offset - i })));
  }
  historySeeded += count;
}

type Message = { type: 'files' | 'history'; count: number };

process.on('message', async (message: Message) => {
  const started = performance.now();
  await (message.type === 'files' ? seedFiles(message.count) : seedHistory(message.count));
  process.send?.({ ms: performance.now() - started, seq: store.seq });
});
process.send?.({ port: running.port, token, baseUrl: `http://127.0.0.1:${running.port}${config.prefix}` });
process.on('SIGTERM', async () => {
  await running.stop();
  await rm(dataDir, { recursive: true, force: true });
  process.exit(0);
});
