import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Level } from 'level';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { makeTempDir } from '../helpers/store.js';

/** Collects a section's entries in key order. */
async function entriesOf(storage: Awaited<ReturnType<typeof openLevelStorage>>, section: string): Promise<[string, unknown][]> {
  const entries: [string, unknown][] = [];
  for await (const entry of storage.entries(section)) entries.push(entry);
  return entries;
}

test('writes land in their own section, readable by get, getMany and entries; del removes', async () => {
  const dir = await makeTempDir();
  const storage = await openLevelStorage(join(dir, 'db'), { sync: false });
  try {
    await storage.write([
      { type: 'put', section: 'a', key: 'k1', value: { n: 1, nested: ['x'] } },
      { type: 'put', section: 'a', key: 'k2', value: 'text' },
      { type: 'put', section: 'ab', key: 'k1', value: 3 },
    ]);
    await storage.write([{ type: 'del', section: 'a', key: 'k2' }]);
    assert.deepEqual(await storage.get('a', 'k1'), { n: 1, nested: ['x'] });
    assert.deepEqual(await storage.getMany('a', ['k1', 'k2']), [{ n: 1, nested: ['x'] }, undefined]);
    assert.deepEqual(await entriesOf(storage, 'a'), [['k1', { n: 1, nested: ['x'] }]]);
    assert.deepEqual(await entriesOf(storage, 'ab'), [['k1', 3]], 'a section whose name extends another stays apart');
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('keyList reads the keys of a range at once, as keys iterates them, within its section', async () => {
  const dir = await makeTempDir();
  const storage = await openLevelStorage(join(dir, 'db'), { sync: false });
  try {
    await storage.write(['a1', 'a2', 'a3', 'b1'].map((key) => ({ type: 'put' as const, section: 's', key, value: 0 })));
    await storage.write([{ type: 'put', section: 's2', key: 'a0', value: 0 }]);
    const ranges = [{ gte: 'a', lt: 'b' }, { gt: 'a1', lt: 'b', limit: 1 }, { gte: 'a', lt: 'c', reverse: true, limit: 3 }, { gte: 'x' }];
    for (const range of ranges) {
      const iterated: string[] = [];
      for await (const key of storage.keys('s', range)) iterated.push(key);
      assert.deepEqual(await storage.keyList('s', range), iterated, JSON.stringify(range));
    }
    assert.deepEqual(await storage.keyList('s', { gte: 'a', lt: 'b' }), ['a1', 'a2', 'a3']);
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a batch with a value that cannot be stored writes none of its operations', async () => {
  const dir = await makeTempDir();
  const storage = await openLevelStorage(join(dir, 'db'), { sync: false });
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
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});

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

test('records() walks every section in order; a snapshot keeps reading the store as it was while writes go on', async () => {
  const dir = await makeTempDir();
  const storage = await openLevelStorage(join(dir, 'db'), { sync: false });
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
    assert.equal(await snapshot.get('b', 'k'), 2, 'get reads the snapshot');
    assert.equal(await snapshot.get('a', 'k0'), undefined);
    assert.deepEqual(await snapshot.getMany('a', ['k0', 'k1']), [undefined, 'one']);
    const keys = [];
    for await (const key of snapshot.keys('a')) keys.push(key);
    assert.deepEqual(keys, ['k1', 'k2'], 'keys read the snapshot');
    await snapshot.close();
    assert.equal(await storage.get('b', 'k'), undefined, 'the live store has the later writes');
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('records() reports a key outside every section with section "" and its raw value', async () => {
  const dir = await makeTempDir();
  const location = join(dir, 'db');
  try {
    const level = new Level<string, string>(location);
    await level.put('plain', 'not json');
    await level.close();
    const storage = await openLevelStorage(location, { sync: false });
    const seen = [];
    for await (const record of storage.records()) seen.push(record);
    await storage.close();
    assert.deepEqual(seen, [{ section: '', key: 'plain', value: 'not json' }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
