import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restartDelay, type RestartPolicy } from '../../main/restart-policy.js';

const policy: RestartPolicy = { firstDelayMs: 500, maxDelayMs: 4000, maxCrashes: 6, windowMs: 60_000 };

test('each crash in the window doubles the delay, up to the maximum', () => {
  const crashes: number[] = [];
  const delays: (number | undefined)[] = [];
  for (let time = 0; time < 6000; time += 1000) {
    crashes.push(time);
    delays.push(restartDelay(crashes, time, policy));
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 4000, undefined]);
});

test('crashes older than the window are forgotten', () => {
  assert.equal(restartDelay([0, 1000, 2000, 3000, 4000, 100_000], 100_000, policy), 500);
});
