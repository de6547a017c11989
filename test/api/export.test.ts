import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postman from 'postman-collection';
import { contentsOf, createSpace, fixture, flatten, importFile, importOk } from '../helpers/projects.js';
import { startTestStore, type TestStore } from '../helpers/store.js';

type Json = Record<string, any>;

async function exportOf(store: TestStore, key: string, format: string): Promise<Json> {
  const response = await store.api(`/files/${key}/export?format=${format}`);
  const body = (await response.json()) as Json;
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.match(response.headers.get('Content-Disposition') ?? '', /^attachment; filename="/);
  return body;
}

/** Every request of a collection as Postman's SDK reads it: folder path, method, URL, headers, body. */
function sdkRequests(collection: Json) {
  const parsed = new postman.Collection(collection as never);
  const out: Json[] = [];
  parsed.forEachItem((item) => {
    const path: string[] = [];
    for (let parent = item.parent() as any; parent && parent !== parsed; parent = parent.parent()) path.unshift(parent.name);
    const body = item.request.body?.toJSON() as Json | undefined;
    out.push({
      path,
      name: item.name,
      method: item.request.method,
      url: item.request.url.toString(),
      headers: item.request.headers.all().map((h) => [h.key, h.value]),
      body: body?.mode ? { mode: body.mode, raw: body.raw, urlencoded: body.urlencoded, formdata: body.formdata } : undefined,
    });
  });
  return out;
}

describe('export', () => {
  let store: TestStore;
  before(async () => {
    store = await startTestStore();
  });
  after(() => store.stop());

  test('api-store format round-trips a space losslessly: export → import into an empty store → export', async () => {
    const root = await createSpace(store, 'team');
    const inner = await createSpace(store, 'inner', root.key);
    await importOk(store, 'postman-v2.1-complex.json', root.key);
    await importOk(store, 'insomnia-v4.json', inner.key);
    await importOk(store, 'swagger2-petstore.json', inner.key);
    // A newer app's fields survive, in the metadata and in the document.
    const extra = await store.api(`/files?parent=${inner.key}&alt=media`, {
      method: 'POST',
      body: { meta: { kind: 'Core#HttpProject', info: { name: 'extra', color: 'red' }, labels: ['a'] }, media: { kind: 'Core#HttpProject', info: { name: 'extra' }, items: [], definitions: { futureThings: [1] }, future: true } },
    });
    assert.equal(extra.status, 201);
    await store.api(`/files?parent=${inner.key}`, { method: 'POST', body: { kind: 'Core#Note', info: { name: 'no contents' } } });
    const first = await exportOf(store, root.key, 'api-store');
    assert.equal(first.files.length, 7);

    const empty = await startTestStore();
    try {
      const target = await createSpace(empty, 'restore');
      const response = await importFile(empty, JSON.stringify(first), 'application/json', target.key);
      const report = (await response.json()) as Json;
      assert.equal(response.status, 201, JSON.stringify(report));
      assert.equal(report.format, 'api-store');
      assert.deepEqual(report.created.map((c: Json) => c.key), first.files.map((f: Json) => f.key));
      const second = await exportOf(empty, root.key, 'api-store');
      assert.deepEqual(second, first);
    } finally {
      await empty.stop();
    }

    // Into the same store every key clashes: each is remapped, and the tree holds together.
    const again = await createSpace(store, 'again');
    const response = await importFile(store, JSON.stringify(first), 'application/json', again.key);
    const report = (await response.json()) as Json;
    assert.equal(response.status, 201);
    assert.deepEqual(report.created.map((c: Json) => c.sourceKey), first.files.map((f: Json) => f.key));
    const copy = await exportOf(store, report.created[0].key, 'api-store');
    const remap = new Map(report.created.map((c: Json) => [c.key, c.sourceKey]));
    // New keys list in another order: compare the files by their source key.
    const byKey = (files: Json[]) => [...files].sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(byKey(copy.files.map((f: Json) => ({ ...f, key: remap.get(f.key), ...(f.parent ? { parent: remap.get(f.parent) } : {}) }))), byKey(first.files));
  });

  test('a Postman v2.1 export of an imported Postman collection keeps every request (read back with Postman’s SDK)', async () => {
    for (const name of ['postman-v2.1-complex.json', 'postman-v2.0-complex.json', 'postman-v2.1-bearer-token.json']) {
      const space = await createSpace(store, name);
      const report = await importOk(store, name, space.key);
      const exported = await exportOf(store, report.created[0].key, 'postman-v2.1');
      assert.equal(exported.info.schema, 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json');
      const source = JSON.parse(fixture(name));
      // The body mode Postman does not define was reported at import and is left out.
      const expected = sdkRequests(source).map((r) => (r.body?.mode === 'raw' && r.name.includes('Unknown') ? { ...r, body: undefined } : r));
      // URLs as the collection's authors typed them (`raw`), where its parts disagree.
      const typed: string[] = [];
      const walk = (items: Json[]) => items.forEach((i) => (i.item ? walk(i.item) : typed.push(typeof i.request.url === 'string' ? i.request.url : i.request.url.raw)));
      walk(source.item);
      assert.deepEqual(sdkRequests(exported), expected.map((r, i) => ({ ...r, url: typed[i] })), name);
      // And importing the export again gives the same requests.
      const back = await importFile(store, JSON.stringify(exported), 'application/json', space.key);
      const backReport = (await back.json()) as Json;
      assert.deepEqual(flatten(await contentsOf(store, backReport.created[0].key)), flatten(await contentsOf(store, report.created[0].key)));
    }
  });

  test('a space exports to Postman as one collection with a folder per project', async () => {
    const space = await createSpace(store, 'apis');
    await importOk(store, 'har-deep.json', space.key);
    await importOk(store, 'curl-complex.sh', space.key);
    const exported = await exportOf(store, space.key, 'postman-v2.1');
    assert.equal(exported.info.name, 'apis');
    assert.deepEqual(exported.item.map((i: Json) => i.item.length).sort(), [1, 2]);
    assert.equal(sdkRequests(exported).length, 3);
  });

  test('exports answer 404 for files the caller cannot see, 400 for an unknown format', async () => {
    assert.equal((await store.api('/files/nope/export')).status, 404);
    const space = await createSpace(store, 'x');
    const response = await store.api(`/files/${space.key}/export?format=csv`);
    assert.equal(response.status, 400);
  });

  test('history exports as HAR 1.2, a page at a time, with the list filters', async () => {
    const entries = Array.from({ length: 450 }, (_, i) => ({
      app: 'tests',
      log: {
        request: { url: `https://example.com/items/${i}?q=${i}`, method: i % 2 ? 'POST' : 'GET', headers: 'accept: application/json', payload: i % 2 ? `{"n":${i}}` : undefined, startTime: 1_700_000_000_000 + i },
        response: { status: 200, statusText: 'OK', headers: 'content-type: application/json', payload: '{}', timings: { send: 1, wait: 2, receive: 3 } },
      },
    }));
    const created = await store.api('/history/batch/create', { method: 'POST', body: entries });
    assert.equal(created.status, 200);
    const response = await store.api('/history/export?format=har');
    assert.equal(response.status, 200);
    const har = (await response.json()) as Json;
    assert.equal(har.log.version, '1.2');
    assert.equal(har.log.entries.length, 450);
    const last = har.log.entries.at(-1);
    assert.deepEqual([last.request.method, last.request.url, last.request.headers, last.request.queryString, last.time], ['GET', 'https://example.com/items/0?q=0', [{ name: 'accept', value: 'application/json' }], [{ name: 'q', value: '0' }], 6]);
    assert.equal(har.log.entries[0].request.postData.text, '{"n":449}');
    // Words with digits match whole: `items/44` finds entry 44 only (its URL and its q=44).
    const filtered = (await (await store.api('/history/export?query=items/44')).json()) as Json;
    assert.equal(filtered.log.entries.length, 1);
    // The export is a HAR this store imports.
    const space = await createSpace(store, 'from history');
    const back = await importFile(store, JSON.stringify(filtered), 'application/json', space.key);
    assert.equal(back.status, 201);
    assert.equal(((await store.api('/history/export?type=space')).status), 400);
  });
});
