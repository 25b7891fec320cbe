import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createBackoff, retryAfterMs } from '../backoff.js';

test('full jitter: each pause is drawn between the floor and a ceiling that doubles up to 30 s', () => {
  const low = createBackoff({ random: () => 0 });
  const high = createBackoff({ random: () => 0.999999 });
  const lows = [];
  const highs = [];
  for (let i = 0; i < 8; i++) {
    lows.push(low.next());
    highs.push(high.next());
  }
  assert.deepEqual(lows, Array(8).fill(500));
  assert.deepEqual(highs, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('reset starts the doubling over', () => {
  const backoff = createBackoff({ random: () => 0.999999 });
  backoff.next();
  backoff.next();
  assert.equal(backoff.failures, 2);
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.next(), 1000);
});

test("the server's delay is a floor, spread by up to as much again", () => {
  assert.equal(createBackoff({ random: () => 0 }).next(4000), 4000);
  assert.equal(createBackoff({ random: () => 0.5 }).next(4000), 6000);
  // Never beyond twice the 30 s ceiling, whatever the server says.
  assert.equal(createBackoff({ random: () => 0 }).next(3_600_000), 30000);
});

test('Retry-After: seconds, an HTTP date, or nothing', () => {
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(retryAfterMs('soon'), null);
  assert.equal(retryAfterMs(null), null);
});
