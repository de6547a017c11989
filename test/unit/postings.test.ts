import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { openLevelStorage } from '../../backend/src/store/level-storage.js';
import { addPostings, checkPostings, decodePositions, encodePositions, insideRunsOf, postingsSearch, removePostings, withoutPositions, type Posting } from '../../backend/src/store/postings.js';
import { Store } from '../../backend/src/store/store.js';
import { makeTempDir } from '../helpers/store.js';

/**
 * The postings index against a model (a plain map of key to terms) on a real LevelDB: batches
 * whose keys land anywhere (after every run, between runs, inside runs), removals of any keys,
 * then every search, paged and bounded below, must give the model's answer, and verify's check
 * must find nothing.
 */

const RUNS = 'runs';
const SECTION = 'postings';
const TERMS = ['alpha', 'beta', 'gamma', 'delta'];
const prefixOf = (term: string) => `scope\0${term}\0`;
const keyOf = (n: number) => `k${String(n).padStart(4, '0')}`;

/** A record stands for itself in the records section; its terms are stored with it. */
const postingOf = (key: string, terms: string[]): Posting => ({ key, scopes: [{ section: SECTION, scope: 'scope\0', terms }] });

type Step = { add: { n: number; terms: string[] }[] } | { remove: number[] };

const termsArbitrary = fc.subarray(TERMS, { minLength: 1 });
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ add: fc.array(fc.record({ n: fc.integer({ min: 0, max: 400 }), terms: termsArbitrary }), { minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ remove: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 30 }) }) },
);

/** Every key the source gives, `count` at a time. */
async function searchAll(store: Store, terms: string[], from: string, count: number): Promise<string[]> {
  const source = postingsSearch(store.storage, RUNS, SECTION, terms.map(prefixOf), from);
  const found: string[] = [];
  for (let after: string | undefined; ; ) {
    const { entries, more } = await source(count, after);
    found.push(...entries.map(([key]) => key));
    if (!more) return found;
    after = found[found.length - 1];
  }
}

test('searches over postings give what a model gives, and verify finds nothing, whatever the batches and removals', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 400 }), async (steps, count, fromN) => {
      const dir = await makeTempDir('api-store-postings-');
      const store = await Store.open(await openLevelStorage(join(dir, 'db'), { sync: false }));
      try {
        const model = new Map<string, string[]>();
        const used = new Set<string>();
        for (const step of steps) {
          if ('add' in step) {
            // Keys are never reused, removed or not, as record keys are not.
            const fresh = [...new Map(step.add.map(({ n, terms }) => [keyOf(n), terms])).entries()].filter(([key]) => !used.has(key));
            if (!fresh.length) continue;
            for (const [key] of fresh) used.add(key);
            await store.mutate(async (m) => {
              for (const [key, terms] of fresh) m.put('records', key, terms);
              await addPostings(m, store.storage, RUNS, fresh.map(([key, terms]) => postingOf(key, terms)));
            });
            for (const [key, terms] of fresh) model.set(key, terms);
          } else {
            // Repeats stay: a key named twice is removed once.
            const gone = step.remove.map(keyOf).filter((key) => model.has(key));
            await store.mutate(async (m) => {
              for (const key of gone) m.del('records', key);
              await removePostings(m, store.storage, RUNS, gone.map((key) => postingOf(key, model.get(key)!)));
            });
            for (const key of gone) model.delete(key);
          }
        }
        const problems: string[] = [];
        await checkPostings<string[]>(store.storage, { runs: RUNS, records: 'records', sections: [SECTION], scopesOf: (terms) => postingOf('', terms).scopes }, (section, key, problem) =>
          problems.push(`${section} ${JSON.stringify(key)}: ${problem}`),
        );
        assert.deepEqual(problems, []);
        const from = fromN % 3 === 0 ? '' : keyOf(fromN);
        for (const query of [['alpha'], ['beta', 'gamma'], ['alpha', 'delta', 'gamma'], TERMS]) {
          const expected = [...model].filter(([key, terms]) => key >= from && query.every((term) => terms.includes(term))).map(([key]) => key).sort().reverse();
          assert.deepEqual(await searchAll(store, query, from, count), expected, `${query.join(' ')} from ${from || 'the start'}`);
        }
      } finally {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 40 },
  );
});

test('positions are kept as ranges, read back as they were, and removed range by range', () => {
  assert.equal(encodePositions([0, 1, 2, 3, 7, 9, 10]), '0-3,7,9-10');
  assert.equal(withoutPositions('0-999', [0, 500, 501, 999]), '1-499,502-998');
  const ascending = (numbers: number[]) => [...numbers].sort((a, b) => a - b);
  fc.assert(
    fc.property(fc.uniqueArray(fc.nat({ max: 300 }), { minLength: 1 }), fc.uniqueArray(fc.nat({ max: 300 })), (positions, removed) => {
      const sorted = ascending(positions);
      assert.deepEqual(decodePositions(encodePositions(sorted)), sorted);
      assert.equal(withoutPositions(encodePositions(sorted), ascending(removed)), encodePositions(sorted.filter((position) => !removed.includes(position))));
    }),
  );
});

test('keys inside a run are kept apart, keys between runs make runs of their own: runs never overlap, and never grow', async () => {
  const dir = await makeTempDir('api-store-postings-');
  const store = await Store.open(await openLevelStorage(join(dir, 'db'), { sync: false }));
  try {
    const write = (keys: number[]) =>
      store.mutate(async (m) => {
        for (const n of keys) m.put('records', keyOf(n), ['alpha']);
        await addPostings(m, store.storage, RUNS, keys.map((n) => postingOf(keyOf(n), ['alpha'])));
      });
    const runs = async () => {
      const held: [string, string[]][] = [];
      for await (const run of store.storage.entries<string[]>(RUNS)) held.push(run);
      return held;
    };
    await write([10, 12, 14]);
    await write([20, 22]);
    assert.deepEqual(await runs(), [
      ['k0010', ['k0010', 'k0012', 'k0014']],
      ['k0020', ['k0020', 'k0022']],
    ]);
    // 5 below every run, 13 and 21 inside runs, 16 between two, 30 after them all.
    await write([30, 21, 16, 13, 5]);
    assert.deepEqual(await runs(), [
      ['k0005', ['k0005']],
      ['k0010', ['k0010', 'k0012', 'k0014']],
      ['k0016', ['k0016']],
      ['k0020', ['k0020', 'k0022']],
      ['k0030', ['k0030']],
    ]);
    assert.deepEqual(await store.storage.keyList(insideRunsOf(RUNS), {}), ['k0013', 'k0021']);
    assert.equal(await store.storage.get(SECTION, `${prefixOf('alpha')}k0010`), '0-2');
    assert.equal(await store.storage.get(SECTION, `${prefixOf('alpha')}k0013`), 'inside');
    assert.deepEqual(await searchAll(store, ['alpha'], '', 2), ['k0030', 'k0022', 'k0021', 'k0020', 'k0016', 'k0014', 'k0013', 'k0012', 'k0010', 'k0005']);
    // A key named twice is removed once, and the run keeps the other removals of the same call.
    await store.mutate((m) => removePostings(m, store.storage, RUNS, [12, 13, 13, 14, 14].map((n) => postingOf(keyOf(n), ['alpha']))));
    assert.deepEqual((await runs())[1], ['k0010', ['k0010', '', '']]);
    assert.equal(await store.storage.get(SECTION, `${prefixOf('alpha')}k0010`), '0');
    assert.equal(await store.storage.get(SECTION, `${prefixOf('alpha')}k0013`), undefined);
    assert.deepEqual(await store.storage.keyList(insideRunsOf(RUNS), {}), ['k0021']);
    // Older than every run (an import of old history): one run in that gap, and so is 17-19 in the gap above k0016.
    await write([3, 1, 2]);
    await write([17, 19, 18]);
    assert.deepEqual((await runs()).map(([key, keys]) => [key, keys.length]), [['k0001', 3], ['k0005', 1], ['k0010', 3], ['k0016', 1], ['k0017', 3], ['k0020', 2], ['k0030', 1]]);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
