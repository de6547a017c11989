import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyJsonPatch, patchBodySchema, patchRequestOf, type PatchOperation } from '../../backend/src/store/json-patch.js';
import { StoreError } from '../../backend/src/store/store-error.js';

const guarded = { protectedFields: new Set(['key', 'kind', 'owner', 'created']), maxDepth: 100 };
const open = { maxDepth: 100 };
type Doc = Record<string, any>;
const record = (): Doc => ({
  key: 'k1',
  kind: 'Core#Space',
  owner: 'owner',
  created: 1,
  info: { name: 'Space', description: 'd' },
  tags: ['a', 'b'],
  'odd/name': 1,
  nested: { x: { y: 1 } },
});

const failsWith = (code: string) => (error: unknown) => error instanceof StoreError && error.code === code;

/** Applies `patch`, then the returned `revert`, and expects the original back (deep-equal). */
function roundTrip(patch: PatchOperation[]) {
  const before = record();
  const { document, revert } = applyJsonPatch(before, patch, guarded);
  assert.deepEqual(before, record(), 'the input is not modified');
  const back = applyJsonPatch(document, revert, guarded).document;
  assert.deepEqual(back, record());
  return document;
}

test('each operation type applies and its revert restores the original', () => {
  assert.equal(roundTrip([{ op: 'add', path: '/info/version', value: '1.0' }]).info.version, '1.0');
  assert.equal(roundTrip([{ op: 'add', path: '/tags/1', value: 'z' }]).tags.join(), 'a,z,b');
  assert.equal(roundTrip([{ op: 'add', path: '/tags/-', value: 'c' }]).tags.join(), 'a,b,c');
  assert.equal(roundTrip([{ op: 'remove', path: '/info/description' }]).info.description, undefined);
  assert.equal(roundTrip([{ op: 'remove', path: '/tags/0' }]).tags.join(), 'b');
  assert.equal(roundTrip([{ op: 'replace', path: '/info/name', value: 'New' }]).info.name, 'New');
  assert.equal(roundTrip([{ op: 'replace', path: '/odd~1name', value: 2 }])['odd/name'], 2);
  const moved = roundTrip([{ op: 'move', from: '/nested/x', path: '/moved' }]);
  assert.deepEqual(moved.moved, { y: 1 });
  assert.deepEqual(moved.nested, {});
  const copied = roundTrip([{ op: 'copy', from: '/info', path: '/infoCopy' }]);
  assert.deepEqual(copied.infoCopy, record().info);
  roundTrip([{ op: 'test', path: '/info/name', value: 'Space' }]);
  roundTrip([
    { op: 'test', path: '/tags', value: ['a', 'b'] },
    { op: 'replace', path: '/tags', value: { now: 'an object' } },
    { op: 'add', path: '/info/x', value: [1, 2] },
    { op: 'remove', path: '/nested' },
  ]);
});

test('protected fields cannot be touched by any path, source or the whole document', () => {
  const attempts: PatchOperation[] = [
    { op: 'replace', path: '/key', value: 'other' },
    { op: 'remove', path: '/owner' },
    { op: 'add', path: '/kind', value: 'x' },
    { op: 'replace', path: '/created/deeper', value: 1 },
    { op: 'test', path: '/key', value: 'k1' },
    { op: 'move', from: '/owner', path: '/stolen' },
    { op: 'copy', from: '/key', path: '/copy' },
    { op: 'move', from: '/info', path: '/kind' },
    { op: 'replace', path: '', value: { info: { name: 'x' } } },
    { op: 'add', path: '/', value: 1 },
    { op: 'add', path: '/k~0ey', value: 1 },
  ];
  for (const operation of attempts.slice(0, -1)) {
    assert.throws(() => applyJsonPatch(record(), [{ op: 'add', path: '/info/ok', value: 1 }, operation], guarded), failsWith('protected_field'), JSON.stringify(operation));
  }
  // `~0` unescapes to `~`: `/k~0ey` is the field "k~ey", not "key".
  assert.equal(applyJsonPatch(record(), [attempts.at(-1)!], guarded).document['k~ey'], 1);
});

test('a failing operation, test included, fails the whole patch and changes nothing', () => {
  const cases: PatchOperation[][] = [
    [{ op: 'replace', path: '/info/name', value: 'changed' }, { op: 'test', path: '/info/name', value: 'Space' }],
    [{ op: 'add', path: '/info/x', value: 1 }, { op: 'remove', path: '/missing' }],
    [{ op: 'replace', path: '/missing/deep', value: 1 }],
    [{ op: 'add', path: '/tags/9', value: 1 }],
    [{ op: 'move', from: '/nowhere', path: '/x' }],
  ];
  for (const patch of cases) {
    const before = record();
    assert.throws(() => applyJsonPatch(before, patch, guarded), failsWith('invalid_patch'), JSON.stringify(patch));
    assert.deepEqual(before, record());
  }
});

test('without protected fields the whole document can be replaced, and reverted', () => {
  const { document, revert } = applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: [1, 2] }], open);
  assert.deepEqual(document, [1, 2]);
  assert.deepEqual(applyJsonPatch(document, revert, open).document, { a: 1 });
  const text = applyJsonPatch('old', [{ op: 'replace', path: '', value: 'new' }], open);
  assert.equal(text.document, 'new');
  assert.equal(applyJsonPatch(text.document, text.revert, open).document, 'old');
});

test('a patch that nests the document deeper than the limit is refused with too_deep', () => {
  const ops: PatchOperation[] = [{ op: 'add', path: '/b', value: [] }];
  for (let step = 0; step < 3; step++) ops.push({ op: 'copy', from: '/b', path: `/b${'/0'.repeat(ops.length - 1)}/-` });
  // Each copy nests the whole of /b into itself: 8 levels after three.
  assert.deepEqual(applyJsonPatch<Doc>({}, ops, { maxDepth: 8 }).document, { b: [[[[], [[[[]]]]]]] });
  assert.throws(() => applyJsonPatch({}, ops, { maxDepth: 7 }), failsWith('too_deep'));
});

test('the PATCH body is a bare array or {app, appVersion, patch}', () => {
  const ops = [{ op: 'replace', path: '/info/name', value: 'x' }];
  assert.deepEqual(patchRequestOf(patchBodySchema.parse(ops)), { patch: ops });
  assert.deepEqual(patchRequestOf(patchBodySchema.parse({ app: 'a', appVersion: '1', patch: ops })), { app: 'a', appVersion: '1', patch: ops });
  for (const bad of [[], [{ op: 'add', path: '/x' }], [{ op: 'move', path: '/x' }], [{ op: 'nope', path: '/x' }], [{ op: 'remove', path: 'x' }], [{ op: 'remove', path: '/a~2' }], { patch: 'x' }]) {
    assert.equal(patchBodySchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});
