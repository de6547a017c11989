import assert from 'node:assert/strict';
import { test } from 'node:test';
import { killRestartRounds } from '../helpers/crash-workload.js';

// Fixed so a failure replays; CRASH_SEED tries another workload.
const seed = Number(process.env.CRASH_SEED ?? 13);

test('5 SIGKILLs at random moments under concurrent writes: every acknowledged write survives, verify finds nothing, the feed has no gap', async (t) => {
  const result = await killRestartRounds(t, { kills: 5, seed });
  assert.equal(result.kills, 5);
  assert.ok(result.acknowledgedWrites >= 50, 'each round acknowledged at least 10 writes before its kill');
  t.diagnostic(JSON.stringify(result));
});
