import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { readPage } from '../../backend/src/store/paging.js';
import type { Storage } from '../../backend/src/store/storage.js';
import { openTestStorage, storageKinds, type TestStorage } from '../helpers/storage.js';

/** Keys under three users' prefixes; the lists below read bob's only. */
const keys = ['alice', 'bob', 'carol'].flatMap((user) => Array.from({ length: 20 }, (_, i) => `${user}\0${String(i).padStart(2, '0')}`));
const bobs = keys.filter((key) => key.startsWith('bob\0'));
const range = { gte: 'bob\0', lt: 'bob\x01' };
const all = async (chunk: [string, string][]) => chunk.map(([key]) => key);

for (const kind of storageKinds) {
  describe(kind, () => {
    let opened: TestStorage;
    let storage: Storage;

    before(async () => {
      opened = await openTestStorage(kind);
      storage = opened.storage;
      await storage.write(keys.map((key) => ({ type: 'put' as const, section: 'index', key, value: key })));
    });
    after(() => opened.dispose());

    test('a page never leaves its range, whatever position it resumes after', async () => {
      const position = fc.oneof(fc.constantFrom('', '\0', 'a', 'alice\0zz', 'bob', 'bob\0', 'bob\0 ', 'bob\0zz', 'bob\x01', 'carol\0', '\uffff', ...keys), fc.string());
      await fc.assert(
        fc.asyncProperty(position, fc.boolean(), fc.integer({ min: 1, max: 50 }), async (resume, reverse, limit) => {
          const page = await readPage(storage, 'index', { ...range, reverse }, { limit, after: resume }, all);
          const expected = bobs.filter((key) => (reverse ? key < resume : key > resume));
          if (reverse) expected.reverse();
          assert.deepEqual(page.items, expected.slice(0, limit));
          assert.equal(page.last, expected.length > limit ? expected[limit - 1] : undefined);
        }),
        { numRuns: 300 },
      );
    });

    test('a page ends before the item that passes the byte budget; its first item always comes', async () => {
      const big = async (chunk: [string, string][]) => chunk.map(([key]) => key.padEnd(100, '.'));
      const size = Buffer.byteLength(JSON.stringify(bobs[0].padEnd(100, '.')));
      const three = await readPage(storage, 'index', range, { limit: 20, bytes: 3 * size + 1 }, big);
      assert.equal(three.items.length, 3);
      assert.equal(three.last, bobs[2]);
      const next = await readPage(storage, 'index', range, { limit: 20, bytes: 3 * size + 1, after: three.last }, big);
      assert.equal(next.items[0], bobs[3].padEnd(100, '.'));
      const one = await readPage(storage, 'index', range, { limit: 20, bytes: 1 }, big);
      assert.deepEqual([one.items.length, one.last], [1, bobs[0]]);
    });
  });
}
