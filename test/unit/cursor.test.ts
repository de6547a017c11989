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
