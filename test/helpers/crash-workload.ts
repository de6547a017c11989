import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { verifyStore } from '../../backend/src/store/verify.js';
import { exitOf, startBackendOn } from './backend-process.js';
import { makeTempDir } from './store.js';

/**
 * The kill test of issue 13: a real backend child under concurrent writes is killed with SIGKILL
 * after a random (seeded) number of acknowledged writes, while other writes are in flight, then
 * restarted on the same data dir. Every acknowledged write must be there, a write whose answer
 * never came must have landed whole or not at all, `verifyStore` must find nothing and the change
 * feed must have no gap. "Random moments" come from counting acknowledgements, not from timers.
 */

/** A small seeded generator (mulberry32): the same seed replays the same workload. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a file looks like after a write: its name, its contents, whether it is in trash. */
interface FileState {
  name: string;
  media: { n: number; text: string };
  deleted: boolean;
}

interface TrackedFile {
  key: string;
  worker: number;
  /** The state the last acknowledged write left (undefined until the create is acknowledged). */
  acked?: FileState;
  /** The state if the write in flight at the kill landed; one write per file at a time. */
  pending?: FileState;
}

interface HistoryBatch {
  /** Each batch logs under its own app id, so a list by app shows exactly that batch. */
  app: string;
  size: number;
  /** The keys the acknowledgement named; undefined while in flight. */
  keys?: string[];
}

export interface KillRunResult {
  seed: number;
  kills: number;
  /** 2xx answers received before the kills, all checked after the restarts. */
  acknowledgedWrites: number;
  /** Writes whose answer never came (killed in flight), found landed whole or not at all. */
  inFlightWrites: number;
  /** Individual checks after restarts: file states, trash entries, history keys. */
  checks: number;
  /** Records `verifyStore` walked after the last kill. */
  records: number;
  /** Length of the change feed at the end, checked gap-free after every restart. */
  feedLength: number;
}

/** A UUID v4 from the seeded generator: clients choose keys, so a create in flight can be looked for. */
function uuidFrom(random: () => number): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const sameState = (actual: { name: string; media: unknown }, expected: FileState) =>
  actual.name === expected.name && JSON.stringify(actual.media) === JSON.stringify(expected.media);

/** Runs `kills` kill/restart rounds on one data dir; asserts after each restart. */
export async function killRestartRounds(t: TestContext, options: { kills: number; seed: number; workers?: number }): Promise<KillRunResult> {
  const { kills, seed, workers = 4 } = options;
  const random = seededRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const dataDir = await makeTempDir('api-store-crash-');
  const children = new Set<ChildProcess>();
  t.after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all([...children].map(exitOf));
    await rm(dataDir, { recursive: true, force: true });
  });
  const context = `seed ${seed}`;

  const files: TrackedFile[] = [];
  const batches: HistoryBatch[] = [];
  const result: KillRunResult = { seed, kills: 0, acknowledgedWrites: 0, inFlightWrites: 0, checks: 0, records: 0, feedLength: 0 };
  let counter = 0;
  let backend = await startBackendOn(dataDir, children);

  const call = (path: string, method = 'GET', body?: unknown) =>
    fetch(`http://127.0.0.1:${backend.port}/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${backend.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  for (let round = 1; round <= kills; round++) {
    const killAfter = int(10, 60);
    let acknowledged = 0;
    let killed = false;
    const unexpected: string[] = [];
    const current = backend;

    /** Counts an acknowledgement; the one that reaches `killAfter` kills the backend mid-load. */
    const acknowledge = () => {
      result.acknowledgedWrites += 1;
      acknowledged += 1;
      if (acknowledged === killAfter && !killed) {
        killed = true;
        current.child.kill('SIGKILL');
      }
    };
    /** Sends a write; `null` when no answer came (the backend died with it in flight). */
    const write = async (path: string, method: string, body: unknown, expected: number) => {
      let response: Response;
      try {
        response = await call(path, method, body);
        if (response.status === expected) {
          const text = await response.text();
          return text ? (JSON.parse(text) as unknown) : {};
        }
        unexpected.push(`${method} ${path} → ${response.status} ${await response.text()}`);
      } catch {
        // The connection died: the kill. The outcome is unknown and checked after the restart.
      }
      return null;
    };

    const runWorker = async (worker: number) => {
      while (!killed && unexpected.length === 0) {
        const live = files.filter((f) => f.worker === worker && f.acked && !f.acked.deleted && !f.pending);
        const roll = live.length < 2 ? 0 : random();
        counter += 1;
        if (roll < 0.25) {
          const file: TrackedFile = { key: uuidFrom(random), worker };
          file.pending = { name: `file ${counter}`, media: { n: counter, text: 'x'.repeat(int(0, 4000)) }, deleted: false };
          files.push(file);
          const meta = { key: file.key, kind: 'Core#Note', info: { name: file.pending.name } };
          if ((await write('/files?alt=media', 'POST', { meta, media: file.pending.media }, 201)) === null) return;
          file.acked = file.pending;
          file.pending = undefined;
        } else if (roll < 0.75) {
          const file = live[int(0, live.length - 1)];
          const acked = file.acked!;
          if (roll < 0.45) {
            file.pending = { ...acked, name: `name ${counter}` };
            const patch = [{ op: 'replace', path: '/info/name', value: file.pending.name }];
            if ((await write(`/files/${file.key}`, 'PATCH', patch, 200)) === null) return;
          } else if (roll < 0.6) {
            file.pending = { ...acked, media: { n: counter, text: 'y'.repeat(int(0, 4000)) } };
            if ((await write(`/files/${file.key}?alt=media`, 'PUT', file.pending.media, 200)) === null) return;
          } else if (roll < 0.67) {
            file.pending = { ...acked, media: { ...acked.media, n: counter } };
            if ((await write(`/files/${file.key}?alt=media`, 'PATCH', [{ op: 'replace', path: '/n', value: counter }], 200)) === null) return;
          } else {
            file.pending = { ...acked, deleted: true };
            if ((await write(`/files/${file.key}`, 'DELETE', undefined, 204)) === null) return;
          }
          file.acked = file.pending;
          file.pending = undefined;
        } else {
          const batch: HistoryBatch = { app: `crash-${seed}-${counter}`, size: int(1, 12) };
          batches.push(batch);
          const entries = Array.from({ length: batch.size }, (_, i) => ({
            app: batch.app,
            log: { request: { url: `http://example.invalid/${counter}/${i}`, method: 'GET', headers: '', startTime: counter } },
          }));
          const answer = (await write('/history/batch/create', 'POST', entries, 200)) as { items: string[] } | null;
          if (answer === null) return;
          batch.keys = answer.items;
        }
        acknowledge();
      }
    };

    await Promise.all(Array.from({ length: workers }, (_, worker) => runWorker(worker)));
    assert.deepEqual(unexpected, [], `round ${round} (${context}): every write is answered as asked`);
    assert.ok(killed, `round ${round} (${context}): the backend was killed`);
    assert.equal((await exitOf(current.child)).signal, 'SIGKILL');
    children.delete(current.child);
    result.kills += 1;

    // The backend keeps its LevelDB in <dataDir>/db (server.ts); the dead child left its lock free.
    const storage = await openLevelStorage(join(dataDir, 'db'), { sync: false });
    try {
      const verified = await verifyStore(storage);
      assert.deepEqual(verified.problems, [], `round ${round} (${context}): verifyStore finds nothing after the kill`);
      assert.ok(verified.records > 0, 'verifyStore walked the store');
      result.records = verified.records;
    } finally {
      await storage.close();
    }

    backend = await startBackendOn(dataDir, children);
    result.inFlightWrites += files.filter((f) => f.pending).length + batches.filter((b) => !b.keys).length;
    result.checks += await checkFiles(call, files, `round ${round} (${context})`);
    result.checks += await checkHistory(call, batches, `round ${round} (${context})`);
    result.feedLength = await checkFeed(call, result.feedLength, `round ${round} (${context})`);
  }

  backend.child.send({ type: 'shutdown' });
  await exitOf(backend.child);
  return result;
}

type Call = (path: string, method?: string, body?: unknown) => Promise<Response>;

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/**
 * Every file is in its acknowledged state, or in the state of the write that was in flight;
 * either way the ledger then records what is there. Files in trash are listed in the trash.
 */
async function checkFiles(call: Call, files: TrackedFile[], context: string): Promise<number> {
  const trashed = new Set<string>();
  for (let cursor: string | undefined, first = true; first || cursor; first = false) {
    const page = await json<{ items: { key: string }[]; cursor?: string }>(await call(`/trash?limit=500${cursor ? `&cursor=${cursor}` : ''}`));
    for (const item of page.items) trashed.add(item.key);
    cursor = page.cursor;
  }
  let checks = 0;
  for (const file of [...files]) {
    const candidates = [file.acked, file.pending].filter((state): state is FileState => state !== undefined);
    const meta = await call(`/files/${file.key}`);
    let found: FileState | undefined;
    if (meta.status === 200) {
      const name = (await json<{ info: { name: string } }>(meta)).info.name;
      const media = await call(`/files/${file.key}?alt=media`);
      assert.equal(media.status, 200, `${context}: ${file.key} has its contents`);
      const actual = { name, media: await media.json() };
      found = candidates.find((state) => !state.deleted && sameState(actual, state));
      assert.ok(found, `${context}: ${file.key} is ${JSON.stringify(actual).slice(0, 200)}, expected one of ${JSON.stringify(candidates).slice(0, 400)}`);
    } else {
      assert.equal(meta.status, 404, `${context}: ${file.key} is there or not, nothing else`);
      await meta.body?.cancel();
      if (trashed.has(file.key)) found = candidates.find((state) => state.deleted);
      else assert.ok(!file.acked, `${context}: the acknowledged file ${file.key} is neither readable nor in trash`);
      assert.ok(found || !file.acked, `${context}: ${file.key} is in trash, but no write that put it there`);
    }
    checks += 1;
    if (found) {
      file.acked = found;
      file.pending = undefined;
    } else {
      files.splice(files.indexOf(file), 1);
    }
  }
  return checks;
}

/** An acknowledged batch is there with exactly its keys; one in flight is there whole or not at all. */
async function checkHistory(call: Call, batches: HistoryBatch[], context: string): Promise<number> {
  let checks = 0;
  for (const batch of [...batches]) {
    const response = await call(`/history?type=app&id=${encodeURIComponent(batch.app)}&limit=500`);
    assert.equal(response.status, 200);
    const keys = (await json<{ items: { key: string }[] }>(response)).items.map((entry) => entry.key);
    if (batch.keys) {
      assert.deepEqual([...keys].sort(), [...batch.keys].sort(), `${context}: history batch ${batch.app} has its acknowledged keys`);
      checks += keys.length;
    } else if (keys.length === 0) {
      batches.splice(batches.indexOf(batch), 1);
    } else {
      assert.equal(keys.length, batch.size, `${context}: the batch ${batch.app} in flight landed whole`);
      batch.keys = keys;
      checks += keys.length;
    }
  }
  return checks;
}

/** The change feed reads 1, 2, 3, … with no gap, and keeps everything it had before the kill. */
async function checkFeed(call: Call, previousLength: number, context: string): Promise<number> {
  let expected = 1;
  for (let cursor: string | undefined, first = true; first || cursor; first = false) {
    const response = await call(`/changes?${cursor ? `cursor=${cursor}` : 'since=0'}&limit=500`);
    assert.equal(response.status, 200, `${context}: the change feed reads`);
    const page = await json<{ items: { seq: number }[]; cursor?: string }>(response);
    for (const { seq } of page.items) {
      assert.equal(seq, expected, `${context}: the change feed has no gap`);
      expected += 1;
    }
    cursor = page.cursor;
  }
  assert.ok(expected - 1 >= previousLength, `${context}: the change feed kept its ${previousLength} changes`);
  return expected - 1;
}
