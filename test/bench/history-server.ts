/**
 * api-store for the history bench, in its own process on a temp data dir removed at exit, with
 * retention off so that seeded entries stay. It seeds history through the store layer (big
 * batches, no HTTP) when asked: `{type: 'seed', count, newest}` writes `count` entries of the
 * local owner, one millisecond apart, the newest at `newest`, and answers `{type: 'seeded', ms}`.
 * `{type: 'leveldb-floor', seconds}` measures the storage floor: the same entries written to a
 * bare LevelDB beside the store for `seconds`, one record each (no indexes, no change feed) in
 * 1,000-entry batches, answering `{type: 'floor', entriesPerSecond, sameRecordsPerSecond, recordsPerEntry}`;
 * `sameRecordsPerSecond` is the floor of the records the store writes for those entries (entry,
 * list and search indexes, change and its path index, counts), written the same way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { createLaunchToken } from '../../backend/src/auth/local-token.js';
import { LOCAL_OWNER } from '../../backend/src/auth/caller.js';
import { configSchema } from '../../backend/src/config.js';
import { createLogger } from '../../backend/src/logger.js';
import { startStoreWhileLoading } from '../../backend/src/process/start-store.js';
import { createHistory, historyAccessOf, type HistoryInput } from '../../backend/src/store/history.js';
import type { WriteOp } from '../../backend/src/store/storage.js';
import { withFields } from '../../backend/src/store/with-fields.js';
import { benchEntry } from './suites/history.js';

const SEED_BATCH = 10_000;
const FLOOR_BATCH = 1_000;

const dataDir = await mkdtemp(join(tmpdir(), 'api-store-bench-history-'));
const token = createLaunchToken();
const config = configSchema.parse({ dataDir, token, logLevel: 'silent', history: { maxEntriesPerUser: 0, maxAgeDays: 0 } });
const running = await startStoreWhileLoading(config, createLogger('silent'));
const { store } = running.services;

async function seed(count: number, newest: number): Promise<void> {
  const access = historyAccessOf(store.storage, LOCAL_OWNER);
  for (let done = 0; done < count; done += SEED_BATCH) {
    const size = Math.min(SEED_BATCH, count - done);
    // Oldest first within the run, so the newest entry ends at `newest`.
    const batch: HistoryInput[] = Array.from({ length: size }, (_, i) => withFields(benchEntry(done + i), { created: newest - (count - 1) + done + i }));
    await createHistory(store, access, batch);
  }
}

/** The records (section, key, value) the store writes for one batch of `FLOOR_BATCH` bench entries. */
async function recordsOfOneBatch(): Promise<WriteOp[]> {
  const { storage } = store;
  const write = storage.write;
  let captured: WriteOp[] = [];
  storage.write = (ops) => {
    captured = ops;
    return write.call(storage, ops);
  };
  try {
    await createHistory(store, historyAccessOf(storage, LOCAL_OWNER), Array.from({ length: FLOOR_BATCH }, (_, i) => benchEntry(i)));
  } finally {
    storage.write = write;
  }
  return captured;
}

/** Writes batches for `seconds`, long enough for LevelDB's compactions to weigh as they do in the store's run. */
async function writeBatches(name: string, seconds: number, put: (batch: ReturnType<Level<string, string>['batch']>, b: number) => void): Promise<number> {
  const db = new Level<string, string>(join(dataDir, name));
  await db.open();
  const started = performance.now();
  let batches = 0;
  for (; performance.now() - started < seconds * 1000; batches++) {
    const batch = db.batch();
    put(batch, batches);
    await batch.write();
  }
  const entriesPerSecond = (batches * FLOOR_BATCH * 1000) / (performance.now() - started);
  await db.close();
  return entriesPerSecond;
}

async function levelDbFloor(seconds: number) {
  const entriesPerSecond = await writeBatches('floor', seconds, (batch, b) => {
    for (let i = 0; i < FLOOR_BATCH; i++) {
      const key = String(b * FLOOR_BATCH + i).padStart(16, '0');
      batch.put(key, JSON.stringify(withFields(benchEntry(i), { key, user: LOCAL_OWNER })));
    }
  });
  const records = await recordsOfOneBatch();
  // Each batch's keys made distinct, as new entries' keys are.
  const sameRecordsPerSecond = await writeBatches('floor-same-records', seconds, (batch, b) => {
    for (const op of records) if (op.type === 'put') batch.put(`!${op.section}!${b}:${op.key}`, JSON.stringify(op.value));
  });
  return { entriesPerSecond, sameRecordsPerSecond, recordsPerEntry: records.length / FLOOR_BATCH };
}

type Message = { type: 'seed'; count: number; newest: number } | { type: 'leveldb-floor'; seconds: number };

process.on('message', async (message: Message) => {
  if (message.type === 'leveldb-floor') {
    process.send?.({ type: 'floor', ...(await levelDbFloor(message.seconds)) });
    return;
  }
  const started = performance.now();
  await seed(message.count, message.newest);
  process.send?.({ type: 'seeded', ms: performance.now() - started });
});
process.send?.({ port: running.port, token, baseUrl: `http://127.0.0.1:${running.port}${config.prefix}` });
process.on('SIGTERM', async () => {
  await running.stop();
  await rm(dataDir, { recursive: true, force: true });
  process.exit(0);
});
