import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventSocket, type Frame } from '../helpers/event-socket.js';
import { largeHar, largeHarRequests } from '../helpers/large-har.js';
import { contentsOf, createSpace, flatten, importFile } from '../helpers/projects.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

type Json = Record<string, any>;

/** An import sent in chunks without a Content-Length, so only the stream's own count can refuse it. */
function importChunked(store: TestStore, text: string, parent: string): Promise<Response> {
  const bytes = Buffer.from(text);
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, (at += 256 * 1024)));
    },
  });
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${store.token}` };
  return fetch(`${store.baseUrl}/import?parent=${parent}`, { method: 'POST', body, duplex: 'half', headers } as RequestInit);
}

describe('POST /import of a HAR larger than other bodies: streamed, one entry at a time', () => {
  let store: TestStore;
  let space: Json;
  const entries = 3000;
  // About 13 MB, above the 10 MiB cap of every other body.
  const har = largeHar(entries, 4096);
  const filesIn = async (key: string) => ((await (await store.api(`/files?parent=${key}&limit=500`)).json()) as Json).items.length;
  before(async () => {
    store = await startTestStore({ limits: { harImportBytes: 16 * 1024 * 1024 } });
    space = await createSpace(store, 'har');
  });
  after(() => store.stop());

  test('every entry arrives as a request, in order, without the response bodies', async () => {
    assert.ok(har.length > store.running.services.config.limits.mediaBytes);
    const response = await importFile(store, har, 'application/json', space.key);
    const report = (await response.json()) as Json;
    assert.equal(response.status, 201, JSON.stringify(report).slice(0, 500));
    assert.equal(report.format, 'har-1.2');
    assert.deepEqual(report.skipped, []);
    assert.equal(report.created.length, 1);
    assert.equal(report.created[0].name, 'HAR import (generator)');
    const document = await contentsOf(store, report.created[0].key);
    assert.deepEqual(flatten(document).map(({ method, url, headers, payload }) => ({ method, url, headers, ...(payload === undefined ? {} : { payload }) })), largeHarRequests(entries));
    assert.ok(!JSON.stringify(document).includes('rrrr'));
  });

  test('sent in chunks without a length, it arrives the same', async () => {
    const response = await importChunked(store, har, space.key);
    const report = (await response.json()) as Json;
    assert.equal(response.status, 201, JSON.stringify(report).slice(0, 500));
    assert.equal(flatten(await contentsOf(store, report.created[0].key)).length, entries);
  });

  test('a HAR over its cap is refused with 413, by its length or as it streams, and nothing is written', async () => {
    const seq = store.running.services.store.seq;
    const files = await filesIn(space.key);
    const over = largeHar(5000, 4096);
    for (const response of [await importFile(store, over, 'application/json', space.key), await importChunked(store, over, space.key)]) {
      const problem = (await response.json()) as Json;
      assert.equal(response.status, 413, JSON.stringify(problem));
      assert.equal(problem.code, 'payload_too_large');
      assert.equal(problem.limit, 16 * 1024 * 1024);
    }
    assert.equal(store.running.services.store.seq, seq);
    assert.equal(await filesIn(space.key), files);
  });

  test('a HAR broken halfway is a 400 naming the entry where it broke, and nothing is written', async () => {
    const seq = store.running.services.store.seq;
    const cut = har.indexOf('"https://example.com/items/2500?');
    const response = await importFile(store, har.slice(0, cut + 10), 'application/json', space.key);
    const problem = (await response.json()) as Json;
    assert.equal(response.status, 400, JSON.stringify(problem));
    assert.equal(problem.code, 'import_failed');
    assert.equal(problem.format, 'har-1.2');
    assert.equal(problem.location, '/log/entries/2500');
    assert.equal(store.running.services.store.seq, seq);
  });

  test('a HAR without entries, or into a space that is not there, writes nothing', async () => {
    const seq = store.running.services.store.seq;
    const empty = await importFile(store, JSON.stringify({ log: { version: '1.2', creator: { name: 'x' } } }), 'application/json', space.key);
    assert.deepEqual([empty.status, ((await empty.json()) as Json).location], [400, '/log/entries']);
    const missing = await importFile(store, har, 'application/json', 'no-such-space');
    assert.deepEqual([missing.status, ((await missing.json()) as Json).code], [404, 'parent_not_found']);
    assert.equal(store.running.services.store.seq, seq);
  });

  test('progress: the caller\'s sockets observing /files hear every 1,000 entries, before the project is created', async () => {
    const socket = await EventSocket.open(store.baseUrl, store.token);
    try {
      assert.equal((await socket.command(0, '/files')).type, 'ack');
      const response = await store.api(`/import?parent=${space.key}`, { method: 'POST', body: har, headers: { 'Content-Type': 'application/json', 'X-Request-ID': 'har-progress-1' } });
      const report = (await response.json()) as Json;
      assert.equal(response.status, 201);
      const frames: Frame[] = [];
      let frame = await socket.next();
      for (; frame.type !== 'event'; frame = await socket.next()) frames.push(frame);
      assert.deepEqual(frames.map((f) => [f.type, f.operation, f.requestId, f.format, f.path, f.entries]), [1000, 2000, 3000].map((n) => ['progress', 'import', 'har-progress-1', 'har-1.2', '/files', n]));
      const bytes = frames.map((f) => f.bytes as number);
      assert.ok(bytes.every((b, i) => b > (bytes[i - 1] ?? 0) && b <= har.length), JSON.stringify(bytes));
      assert.deepEqual([frame.operation, frame.id], ['created', report.created[0].key]);
    } finally {
      await socket.close();
    }
  });

  describe('to=history: every entry, response included, in batches', () => {
    /** Every history entry attached to `key`, oldest first. */
    const historyOf = async (key: string) => {
      const items: Json[] = [];
      let page = (await (await store.api(`/history?type=space&id=${key}&limit=500`)).json()) as Json;
      items.push(...page.items);
      while (page.cursor) {
        page = (await (await store.api(`/history?cursor=${encodeURIComponent(page.cursor)}&limit=500`)).json()) as Json;
        items.push(...page.items);
      }
      return items.reverse();
    };
    const entries = 1200;
    const small = largeHar(entries, 2048);

    test('each entry becomes a history entry of the caller, attached to the space', async () => {
      const target = await createSpace(store, 'har history');
      const response = await store.api(`/import?parent=${target.key}&to=history`, { method: 'POST', body: small, headers: { 'Content-Type': 'application/json' } });
      const report = (await response.json()) as Json;
      assert.equal(response.status, 201, JSON.stringify(report).slice(0, 500));
      assert.deepEqual(report, { format: 'har-1.2', created: [], history: { entries }, skipped: [] });
      const history = await historyOf(target.key);
      assert.deepEqual(
        history.map((entry) => ({ method: entry.log.request.method, url: entry.log.request.url, headers: entry.log.request.headers, ...(entry.log.request.payload === undefined ? {} : { payload: entry.log.request.payload }) })),
        largeHarRequests(entries),
      );
      const source = JSON.parse(small).log.entries;
      assert.deepEqual(history.map((entry) => entry.created), source.map((entry: Json) => Date.parse(entry.startedDateTime)));
      assert.ok(history.every((entry) => entry.log.response.status === 200 && entry.log.response.payload === 'r'.repeat(2048)));
    });

    test('a HAR broken after some batches were written leaves no entry behind', async () => {
      const target = await createSpace(store, 'har history broken');
      const cut = small.indexOf('"https://example.com/items/1100?');
      const response = await store.api(`/import?parent=${target.key}&to=history`, { method: 'POST', body: small.slice(0, cut), headers: { 'Content-Type': 'application/json' } });
      const problem = (await response.json()) as Json;
      assert.equal(response.status, 400, JSON.stringify(problem));
      assert.deepEqual([problem.code, problem.location], ['import_failed', '/log/entries/1100']);
      assert.deepEqual(await historyOf(target.key), []);
    });

    test('only a HAR imports into history', async () => {
      const response = await importFile(store, 'curl https://example.com', 'text/plain', `${space.key}&to=history`);
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as Json).code, 'validation_failed');
    });
  });
});
