import assert from 'node:assert/strict';
import { test } from 'node:test';
import { killRestartRounds } from '../helpers/crash-workload.js';

// `npm run soak`: the long kill test. SOAK_KILLS sets the number of kills, CRASH_SEED the workload.
const kills = Number(process.env.SOAK_KILLS ?? 20);
const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);

test(`${kills} SIGKILLs at random moments under concurrent writes (seed ${seed}): nothing acknowledged is lost`, async (t) => {
  assert.ok(Number.isSafeInteger(kills) && kills > 0, 'SOAK_KILLS is a positive integer');
  const result = await killRestartRounds(t, { kills, seed });
  assert.equal(result.kills, kills);
  t.diagnostic(JSON.stringify(result));
});
