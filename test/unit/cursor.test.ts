import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { z } from 'zod';
import { createCursors } from '../../backend/src/http/cursor.js';
import { ApiError } from '../../backend/src/http/problem.js';

const position = z.string().min(1);
const files = { route: '/files', user: 'alice' };
const isInvalidCursor = (e: unknown) => e instanceof ApiError && e.code === 'invalid_cursor' && e.status === 400;

/** The cursor a first page of `scope` with `filters` ends with, resuming after `after`. */
function issued(cursors: ReturnType<typeof createCursors>, scope = files, filters: Record<string, string | number | undefined> = { kind: 'K' }, after: unknown = 'k1') {
  return cursors.open(scope, position, { limit: 2, filters }).body([1, 2], after as string).cursor!;
}

test('a cursor resumes its own list with its own filters, and reveals nothing of its position', () => {
  const cursors = createCursors(randomBytes(32), 1000);
  const cursor = issued(cursors, files, { kind: 'K', since: 5 }, 'alice-key-1');
  assert.ok(!Buffer.from(cursor, 'base64url').toString('latin1').includes('alice-key-1'));
  const alone = cursors.open(files, position, { cursor, limit: 3, filters: {} });
  assert.deepEqual(alone.filters, { kind: 'K', since: 5 });
  assert.deepEqual(alone.page, { limit: 3, bytes: 1000, after: 'alice-key-1' });
  const restated = cursors.open(files, position, { cursor, limit: 3, filters: { kind: 'K', since: 5 } });
  assert.equal(restated.page.after, 'alice-key-1');
});

test('a first page takes the request filters; a body has a cursor only when more follows', () => {
  const cursors = createCursors(randomBytes(32), 1000);
  const first = cursors.open(files, position, { limit: 2, filters: { kind: 'K' } });
  assert.deepEqual(first.filters, { kind: 'K' });
  assert.equal(first.page.after, undefined);
  assert.deepEqual(first.body([1, 2], undefined), { items: [1, 2] });
  assert.ok(first.body([1, 2], 'k2').cursor);
});

test('a cursor anywhere else than its list, caller and filters is invalid_cursor', () => {
  const key = randomBytes(32);
  const cursors = createCursors(key, 1000);
  const cursor = issued(cursors);
  const elsewhere = [
    () => cursors.open({ route: '/trash', user: 'alice' }, position, { cursor, limit: 2, filters: {} }),
    () => cursors.open({ route: '/files', user: 'bob' }, position, { cursor, limit: 2, filters: {} }),
    () => cursors.open(files, position, { cursor, limit: 2, filters: { kind: 'Other' } }),
    () => cursors.open(files, position, { cursor, limit: 2, filters: { parent: 'P' } }),
    () => createCursors(randomBytes(32), 1000).open(files, position, { cursor, limit: 2, filters: {} }),
  ];
  for (const open of elsewhere) assert.throws(open, isInvalidCursor);
});

test('a tampered cursor, or one whose position has the wrong shape, is invalid_cursor', () => {
  const cursors = createCursors(randomBytes(32), 1000);
  const cursor = issued(cursors);
  const flipped = Buffer.from(cursor, 'base64url');
  flipped[flipped.length - 20] ^= 1;
  for (const bad of [flipped.toString('base64url'), `${cursor}x`, `${cursor}.`, 'abc', '', '*'.repeat(60)]) {
    assert.throws(() => cursors.open(files, position, { cursor: bad, limit: 2, filters: {} }), isInvalidCursor);
  }
  for (const after of [{ after: 'k' }, ['k'], 7, '']) {
    const wrong = issued(cursors, files, {}, after);
    assert.throws(() => cursors.open(files, position, { cursor: wrong, limit: 2, filters: {} }), isInvalidCursor);
  }
});
