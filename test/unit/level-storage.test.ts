import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Level } from 'level';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import type { KeyRange, Storage } from '../../backend/src/store/storage.js';
import { openTestStorage, storageKinds } from '../helpers/storage.js';
import { makeTempDir } from '../helpers/store.js';

/** Collects a section's entries in key order. */
async function entriesOf(storage: Storage, section: string, range?: KeyRange): Promise<[string, unknown][]> {
  const entries: [string, unknown][] = [];
  for await (const entry of storage.entries(section, range)) entries.push(entry);
  return entries;
}

for (const kind of storageKinds) {
  test(`${kind}: writes land in their own section, readable by get, getJson, getMany and entries; del removes`, async () => {
    const { storage, dispose } = await openTestStorage(kind);
    try {
      await storage.write([
        { type: 'put', section: 'a', key: 'k1', value: { n: 1, nested: ['x'] } },
        { type: 'put', section: 'a', key: 'k2', value: 'text' },
        { type: 'put', section: 'ab', key: 'k1', value: 3 },
      ]);
      await storage.write([{ type: 'del', section: 'a', key: 'k2' }]);
      assert.deepEqual(await storage.get('a', 'k1'), { n: 1, nested: ['x'] });
      assert.deepEqual(await storage.getMany('a', ['k1', 'k2']), [{ n: 1, nested: ['x'] }, undefined]);
      assert.deepEqual(await storage.getMany('a', []), []);
      // Short lists and long ones are read differently on LevelDB: both answer in the keys' order.
      const many = Array.from({ length: 20 }, (_, i) => (i % 2 ? `missing${i}` : 'k1'));
      assert.deepEqual(await storage.getMany('a', many), many.map((key) => (key === 'k1' ? { n: 1, nested: ['x'] } : undefined)));
      assert.equal(await storage.getJson('a', 'k1'), JSON.stringify({ n: 1, nested: ['x'] }), 'getJson gives the text written');
      assert.equal(await storage.getJson('a', 'k2'), undefined);
      assert.equal(await storage.getJson('ab', 'k1'), '3');
      assert.deepEqual(await entriesOf(storage, 'a'), [['k1', { n: 1, nested: ['x'] }]]);
      assert.deepEqual(await entriesOf(storage, 'ab'), [['k1', 3]], 'a section whose name extends another stays apart');
    } finally {
      await dispose();
    }
  });

  test(`${kind}: clear removes a section's records and nothing of another section`, async () => {
    const { storage, dispose } = await openTestStorage(kind);
    try {
      await storage.write(['a', 'ab', 'b'].flatMap((section) => ['k1', 'k2'].map((key) => ({ type: 'put' as const, section, key, value: 1 }))));
      await storage.clear('a');
      assert.deepEqual(await entriesOf(storage, 'a'), []);
      assert.deepEqual(await entriesOf(storage, 'ab'), [['k1', 1], ['k2', 1]]);
      assert.deepEqual(await entriesOf(storage, 'b'), [['k1', 1], ['k2', 1]]);
    } finally {
      await dispose();
    }
  });

  test(`${kind}: keyList and entryList read a range at once, as keys and entries iterate it, within its section`, async () => {
    const { storage, dispose } = await openTestStorage(kind);
    try {
      await storage.write(['a1', 'a2', 'a3', 'b1'].map((key, n) => ({ type: 'put' as const, section: 's', key, value: { n } })));
      await storage.write([{ type: 'put', section: 's2', key: 'a0', value: 0 }]);
      const ranges = [{ gte: 'a', lt: 'b' }, { gt: 'a1', lt: 'b', limit: 1 }, { gte: 'a', lt: 'c', reverse: true, limit: 3 }, { gte: 'x' }];
      for (const range of ranges) {
        const iterated: string[] = [];
        for await (const key of storage.keys('s', range)) iterated.push(key);
        assert.deepEqual(await storage.keyList('s', range), iterated, JSON.stringify(range));
        assert.deepEqual(await storage.entryList('s', range), await entriesOf(storage, 's', range), JSON.stringify(range));
      }
      assert.deepEqual(await storage.keyList('s', { gte: 'a', lt: 'b' }), ['a1', 'a2', 'a3']);
    } finally {
      await dispose();
    }
  });

  test(`${kind}: a batch with a value that cannot be stored writes none of its operations`, async () => {
    const { storage, dispose } = await openTestStorage(kind);
    try {
      await assert.rejects(
        storage.write([
          { type: 'put', section: 'a', key: 'first', value: 1 },
          { type: 'put', section: 'a', key: 'second', value: 10n },
        ]),
      );
      assert.deepEqual(await entriesOf(storage, 'a'), []);
      await storage.write([{ type: 'put', section: 'a', key: 'after', value: true }]);
      assert.equal(await storage.get('a', 'after'), true, 'the storage keeps working');
    } finally {
      await dispose();
    }
  });

  test(`${kind}: records() walks every section in order; a snapshot keeps reading the store as it was while writes go on`, async () => {
    const { storage, dispose } = await openTestStorage(kind);
    try {
      await storage.write([
        { type: 'put', section: 'b', key: 'k', value: 2 },
        { type: 'put', section: 'a', key: 'k2', value: { x: 1 } },
        { type: 'put', section: 'ab', key: 'k', value: 3 },
        { type: 'put', section: 'a', key: 'k1', value: 'one' },
      ]);
      const snapshot = await storage.snapshot();
      await storage.write([
        { type: 'put', section: 'a', key: 'k0', value: 'after' },
        { type: 'del', section: 'b', key: 'k' },
      ]);
      const seen = [];
      for await (const record of snapshot.records()) seen.push(record);
      assert.deepEqual(seen, [
        { section: 'a', key: 'k1', value: 'one' },
        { section: 'a', key: 'k2', value: { x: 1 } },
        { section: 'ab', key: 'k', value: 3 },
        { section: 'b', key: 'k', value: 2 },
      ]);
      assert.deepEqual(
        await snapshot.recordKeys(3),
        [{ section: 'a', key: 'k1' }, { section: 'a', key: 'k2' }, { section: 'ab', key: 'k' }],
        'recordKeys reads the first records of the same order, without values',
      );
      assert.equal(await snapshot.get('b', 'k'), 2, 'get reads the snapshot');
      assert.equal(await snapshot.get('a', 'k0'), undefined);
      assert.equal(await snapshot.getJson('b', 'k'), '2', 'getJson reads the snapshot');
      assert.equal(await snapshot.getJson('a', 'k0'), undefined);
      assert.deepEqual(await snapshot.getMany('a', ['k0', 'k1']), [undefined, 'one']);
      const keys = [];
      for await (const key of snapshot.keys('a')) keys.push(key);
      assert.deepEqual(keys, ['k1', 'k2'], 'keys read the snapshot');
      await snapshot.close();
      assert.equal(await storage.get('b', 'k'), undefined, 'the live store has the later writes');
    } finally {
      await dispose();
    }
  });

  test(`${kind}: ranges, reverse and limits follow the keys' UTF-8 byte order, NUL and astral characters included`, async () => {
    const { storage, dispose } = await openTestStorage(kind);
    const utf8 = (key: string) => Buffer.from(key, 'utf8');
    const inRange = (key: string, range: KeyRange) =>
      (range.gt === undefined || Buffer.compare(utf8(key), utf8(range.gt)) > 0) &&
      (range.gte === undefined || Buffer.compare(utf8(key), utf8(range.gte)) >= 0) &&
      (range.lt === undefined || Buffer.compare(utf8(key), utf8(range.lt)) < 0) &&
      (range.lte === undefined || Buffer.compare(utf8(key), utf8(range.lte)) <= 0);
    try {
      const key = fc.oneof(fc.constantFrom('a', 'a\0', 'a\0b', 'a\x01', 'b', 'é', '\uffff', '😀', 'z'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }));
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(key, { minLength: 0, maxLength: 30 }),
          fc
            .record({ lower: fc.option(fc.oneof(fc.record({ gt: key }), fc.record({ gte: key }))), upper: fc.option(fc.oneof(fc.record({ lt: key }), fc.record({ lte: key }))), reverse: fc.boolean(), limit: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }) })
            .map(({ lower, upper, reverse, limit }): KeyRange => ({ ...lower, ...upper, reverse, ...(limit === undefined ? {} : { limit }) })),
          async (keys, range) => {
            const section = `s${++run}`;
            await storage.write(keys.map((k) => ({ type: 'put' as const, section, key: k, value: k })));
            const expected = keys.filter((k) => inRange(k, range)).sort((a, b) => Buffer.compare(utf8(a), utf8(b)));
            if (range.reverse) expected.reverse();
            const wanted = range.limit === undefined ? expected : expected.slice(0, range.limit);
            assert.deepEqual(await entriesOf(storage, section, range), wanted.map((k) => [k, k]));
            const keysRead = [];
            for await (const k of storage.keys(section, range)) keysRead.push(k);
            assert.deepEqual(keysRead, wanted);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await dispose();
    }
  });

  test(`${kind}: iteration runs past many rows in both directions, stopping at the limit`, async () => {
    const { storage, dispose } = await openTestStorage(kind);
    try {
      const keys = Array.from({ length: 700 }, (_, i) => String(i).padStart(4, '0'));
      await storage.write(keys.map((key) => ({ type: 'put' as const, section: 'big', key, value: { key } })));
      assert.deepEqual((await entriesOf(storage, 'big')).map(([key]) => key), keys);
      assert.deepEqual((await entriesOf(storage, 'big', { reverse: true, limit: 600 })).map(([key]) => key), keys.slice().reverse().slice(0, 600));
      assert.deepEqual((await entriesOf(storage, 'big', { gt: '0100', lte: '0650', limit: 300 })).map(([key]) => key), keys.slice(101, 401));
      const seen = [];
      for await (const record of storage.records()) seen.push(record.key);
      assert.deepEqual(seen, keys);
    } finally {
      await dispose();
    }
  });

  test(`${kind}: a batch applies its operations in order, a later one on the same key winning`, async () => {
    const { storage, dispose } = await openTestStorage(kind);
    try {
      await storage.write([
        { type: 'put', section: 'a', key: 'k', value: 1 },
        { type: 'del', section: 'a', key: 'k' },
        { type: 'del', section: 'a', key: 'j' },
        { type: 'put', section: 'a', key: 'j', value: 2 },
        { type: 'put', section: 'a', key: 'i', value: 3 },
        { type: 'put', section: 'a', key: 'i', value: 4 },
      ]);
      assert.deepEqual(await entriesOf(storage, 'a'), [['i', 4], ['j', 2]]);
    } finally {
      await dispose();
    }
  });
}

test('records are stored as JSON sublevel records were: stores written either way read the same', async () => {
  const dir = await makeTempDir();
  const location = join(dir, 'db');
  try {
    const level = new Level<string, unknown>(location, { valueEncoding: 'json' });
    await level.sublevel<string, unknown>('files', { valueEncoding: 'json' }).put('old', { name: 'written by a sublevel' });
    await level.close();

    const storage = await openLevelStorage(location, { sync: false });
    assert.deepEqual(await storage.get('files', 'old'), { name: 'written by a sublevel' });
    await storage.write([{ type: 'put', section: 'files', key: 'new', value: { name: 'written by storage' } }]);
    await storage.close();

    const reopened = new Level<string, unknown>(location, { valueEncoding: 'json' });
    assert.deepEqual(await reopened.sublevel<string, unknown>('files', { valueEncoding: 'json' }).get('new'), { name: 'written by storage' });
    await reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('records() and recordKeys() report a key outside every section with section ""', async () => {
  const dir = await makeTempDir();
  const location = join(dir, 'db');
  try {
    const level = new Level<string, string>(location);
    await level.put('plain', 'not json');
    await level.close();
    const storage = await openLevelStorage(location, { sync: false });
    const seen = [];
    for await (const record of storage.records()) seen.push(record);
    const keys = await storage.recordKeys(10);
    await storage.close();
    assert.deepEqual(seen, [{ section: '', key: 'plain', value: 'not json' }]);
    assert.deepEqual(keys, [{ section: '', key: 'plain' }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
