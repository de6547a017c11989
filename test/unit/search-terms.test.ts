import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { intersection } from '../../backend/src/store/search-terms.js';
import type { Storage } from '../../backend/src/store/storage.js';
import { makeTempDir } from '../helpers/store.js';

/**
 * The join of a search's terms (`intersection`) against the plain answer, on a real LevelDB:
 * terms of every density (one record in many, every record, none), read in pages forward and
 * backward, with a start (`from`) and a resume point (`after`).
 */

let dir: string;
let storage: Storage;
let run = 0;
before(async () => {
  dir = await makeTempDir();
  storage = await openLevelStorage(join(dir, 'db'), { sync: false });
});
after(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const recordKey = fc.integer({ min: 0, max: 599 }).map((n) => String(n).padStart(4, '0'));
const allKeys = Array.from({ length: 600 }, (_, n) => String(n).padStart(4, '0'));
/** A term's records: a few of 600, or a random share of them (1–100%, drawn by a seeded generator). */
const term = fc.oneof(
  fc.uniqueArray(recordKey, { maxLength: 5 }),
  fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 2 ** 31 - 2 })).map(([percent, seed]) => {
    let x = seed;
    return allKeys.filter(() => (x = (x * 48271) % 2147483647) % 100 < percent);
  }),
);

test('the join answers every record holding all the terms, in order, page by page', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(term, { minLength: 2, maxLength: 3 }),
      fc.boolean(),
      fc.option(recordKey, { nil: undefined }),
      fc.integer({ min: 1, max: 40 }),
      async (terms, reverse, from, pageSize) => {
        // Each run in its own scope, beside a neighbouring scope that must never leak in.
        const scope = `s${run++}`;
        const ops = terms.flatMap((keys, t) =>
          keys.flatMap((key) => [`${scope}\0t${t}\0${key}`, `${scope}x\0t${t}\0${key}`].map((indexKey) => ({ type: 'put' as const, section: 'words', key: indexKey, value: 0 }))),
        );
        await storage.write(ops);
        const sets = terms.map((keys) => new Set(keys));
        let expected = [...sets[0]].filter((key) => sets.every((set) => set.has(key))).sort();
        if (reverse) expected.reverse();
        if (from !== undefined) expected = expected.filter((key) => key >= from);
        const source = intersection(storage, 'words', terms.map((_, t) => `${scope}\0t${t}\0`), { reverse, ...(from !== undefined && { from }) });
        const got: string[] = [];
        let resume: string | undefined;
        for (;;) {
          const { entries, more } = await source(pageSize, resume);
          got.push(...entries.map(([key]) => key));
          if (!more) break;
          resume = entries.at(-1)![0];
        }
        assert.deepEqual(got, expected);
      },
    ),
    { seed: 1414, numRuns: 150 },
  );
});
