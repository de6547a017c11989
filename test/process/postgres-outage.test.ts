import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventSocket } from '../helpers/event-socket.js';
import { sharedPostgres } from '../helpers/postgres.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

/** A store on PostgreSQL whose database goes away: 503 problem+json meanwhile, never a 500 or a crash, and it recovers by itself. */

async function createNote(store: TestStore, name: string): Promise<Response> {
  return store.api('/files', { method: 'POST', body: { kind: 'Core#Note', info: { name } } });
}

/** Retries until the store answers 201 again (the pool reconnects on the next request). */
async function untilWritable(store: TestStore, name: string): Promise<string> {
  for (;;) {
    const response = await createNote(store, name);
    const body = (await response.json()) as { key: string; code?: string };
    if (response.status === 201) return body.key;
    assert.deepEqual([response.status, body.code], [503, 'store_unavailable']);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('while the database is down every request answers 503 store_unavailable (problem+json, Retry-After); back up, the store serves again by itself', async () => {
  const cluster = await sharedPostgres();
  const store = await startTestStore({ storage: await cluster.createDatabase() });
  try {
    const before = await untilWritable(store, 'before');
    await cluster.pause();
    try {
      for (const response of [await createNote(store, 'during'), await store.api(`/files/${before}`), await store.api('/files'), await store.api('/changes?since=0')]) {
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('content-type'), 'application/problem+json');
        assert.equal(response.headers.get('retry-after'), '1');
        assert.equal(((await response.json()) as { code: string }).code, 'store_unavailable');
      }
      assert.equal((await store.api('/store', { token: null })).status, 200, 'what needs no database still answers');
    } finally {
      await cluster.resume();
    }
    const after = await untilWritable(store, 'after');
    assert.equal((await store.api(`/files/${before}`)).status, 200);
    assert.equal((await store.api(`/files/${after}`)).status, 200);
  } finally {
    await store.stop();
  }
});

test('the database restarted under load: only 2xx and 503 answers, every acknowledged write kept, events flow again after it', async () => {
  const cluster = await sharedPostgres();
  const storage = await cluster.createDatabase();
  const store = await startTestStore({ storage });
  const other = await startTestStore({ storage });
  try {
    const observer = await EventSocket.open(other.baseUrl, other.token);
    assert.equal((await observer.command(0, '/files')).type, 'ack');
    const statuses = new Map<number, number>();
    const acknowledged: string[] = [];
    let running = true;
    const load = Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let n = 0; running; n++) {
          const response = await createNote(store, `w${w}-${n}`);
          const body = (await response.json()) as { key?: string };
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status === 201) {
            acknowledged.push(body.key!);
            const read = await store.api(`/files/${body.key}`);
            await read.arrayBuffer();
            statuses.set(read.status, (statuses.get(read.status) ?? 0) + 1);
          }
        }
      }),
    );
    while (acknowledged.length < 20) await new Promise((resolve) => setTimeout(resolve, 10));
    await cluster.restart();
    const restartedAt = acknowledged.length;
    while (acknowledged.length < restartedAt + 20) await new Promise((resolve) => setTimeout(resolve, 10));
    running = false;
    await load;

    assert.deepEqual(
      [...statuses.keys()].filter((status) => status !== 200 && status !== 201 && status !== 503),
      [],
      `answers: ${JSON.stringify([...statuses])}`,
    );
    for (const key of acknowledged) {
      const response = await other.api(`/files/${key}`);
      await response.arrayBuffer();
      assert.equal(response.status, 200, `${key} acknowledged and kept`);
    }
    // The other instance's LISTEN connection came back: a new change reaches its observer, and
    // every change before it was delivered once, in seq order.
    const last = await untilWritable(store, 'after the restart');
    const seen: number[] = [];
    for (;;) {
      const frame = await observer.next();
      seen.push(frame.seq as number);
      if (frame.id === last) break;
    }
    assert.deepEqual(
      seen,
      Array.from({ length: seen.length }, (_, i) => seen[0] + i),
    );
    assert.equal(seen[0], 1);
    await observer.close();
  } finally {
    await store.stop();
    await other.stop();
  }
});
