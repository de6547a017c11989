import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createCursors } from '../../backend/src/http/cursor.js';
import { ApiError } from '../../backend/src/http/problem.js';

test('a cursor round-trips its position', () => {
  const cursors = createCursors(randomBytes(32));
  assert.deepEqual(cursors.decode(cursors.encode({ after: 'k1', n: 3 })), { after: 'k1', n: 3 });
});

test('a tampered or foreign cursor is invalid_cursor', () => {
  const cursors = createCursors(randomBytes(32));
  const good = cursors.encode({ after: 'k1' });
  const forged = Buffer.from(JSON.stringify({ after: 'zzz' })).toString('base64url') + good.slice(good.indexOf('.'));
  for (const bad of [forged, good + 'x', 'abc', '', createCursors(randomBytes(32)).encode({ after: 'k1' })]) {
    assert.throws(() => cursors.decode(bad), (e: unknown) => e instanceof ApiError && e.code === 'invalid_cursor' && e.status === 400);
  }
});

test('resume reads an optional cursor; page adds a cursor only when more follows', () => {
  const cursors = createCursors(randomBytes(32));
  assert.equal(cursors.resume(undefined), undefined);
  assert.deepEqual(cursors.resume(cursors.encode({ after: 'k9' })), { after: 'k9' });
  assert.deepEqual(cursors.page([1, 2], undefined), { items: [1, 2] });
  const page = cursors.page([1, 2], { after: 'k2' });
  assert.deepEqual(cursors.decode(page.cursor!), { after: 'k2' });
});
