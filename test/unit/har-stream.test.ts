import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readHarStream } from '../../backend/src/projects/import/har-stream.js';
import { StoreError } from '../../backend/src/store/store-error.js';

/** Reads `text` in chunks of `size` bytes, collecting what the reader hands over. */
async function read(text: string, options: { size?: number; keepResponses?: boolean; maxBytes?: number; maxDepth?: number } = {}) {
  const bytes = Buffer.from(text);
  const size = options.size ?? 7;
  const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  const seen: { creator?: unknown; entries: [number, unknown][] } = { entries: [] };
  const count = await readHarStream(
    (async function* () { yield* chunks; })(),
    { maxBytes: options.maxBytes ?? 1e6, maxDepth: options.maxDepth ?? 100, keepResponses: options.keepResponses ?? false },
    { creator: (value) => (seen.creator = value), entry: (value, index) => void seen.entries.push([index, value]) },
  );
  return { count, ...seen };
}

const failsWith = (code: string, extra: Record<string, unknown> = {}) => (error: unknown) =>
  error instanceof StoreError && error.code === code && Object.entries(extra).every(([key, value]) => error.extra?.[key] === value);

test('entries come one at a time, in order, whatever the chunking; other parts of the log are skipped', async () => {
  const har = { log: { version: '1.2', pages: [{ id: 'p', deep: { a: [1, { b: 2 }] } }], entries: [{ request: { url: 'u0' }, response: { content: { text: 'big' } } }, 'odd', null, { request: { url: 'u3' } }], creator: { name: 'late' } }, other: [1, 2] };
  for (const size of [1, 3, 64, 4096]) {
    const seen = await read(JSON.stringify(har), { size });
    assert.equal(seen.count, 4);
    assert.deepEqual(seen.entries, [[0, { request: { url: 'u0' } }], [1, 'odd'], [2, null], [3, { request: { url: 'u3' } }]]);
    assert.deepEqual(seen.creator, { name: 'late' });
  }
  const kept = await read(JSON.stringify(har), { keepResponses: true });
  assert.deepEqual(kept.entries[0], [0, har.log.entries[0]]);
});

test('a broken or unexpected HAR fails with where the reader stood', async () => {
  await assert.rejects(read('{"log":{"entries":[{"request":{}},{"request":'), failsWith('import_failed', { format: 'har-1.2', location: '/log/entries/1' }));
  await assert.rejects(read('{"log":{"entries":{"a":1}}}'), failsWith('import_failed', { location: '/log/entries' }));
  await assert.rejects(read('{"log":[]}'), failsWith('import_failed', { location: '/log/entries' }));
});

test('nesting past the depth limit and bodies past the byte cap are refused', async () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  // Refused by the depth filter in front of the reader (import_failed) or by the reader itself (too_deep).
  const tooDeep = (error: unknown) => error instanceof StoreError && ['too_deep', 'import_failed'].includes(error.code) && /depth|deep/.test(error.message);
  await assert.rejects(read(`{"log":{"entries":[${deep(20)}]}}`, { maxDepth: 10 }), tooDeep);
  await assert.rejects(read(`{"log":{"pages":${deep(20)},"entries":[]}}`, { maxDepth: 10 }), tooDeep);
  await assert.rejects(read(`{"log":{"entries":[${deep(20)}]}}`, { maxDepth: 10, keepResponses: true }), tooDeep);
  await assert.rejects(read(`{"log":{"entries":[${'1,'.repeat(100)}1]}}`, { maxBytes: 100 }), failsWith('payload_too_large', { limit: 100 }));
});
