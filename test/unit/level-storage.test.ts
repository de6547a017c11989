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
