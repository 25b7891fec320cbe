import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createLiveness } from '../liveness.js';
import { fakeClock } from './fakes.js';

function watch() {
  const clock = fakeClock();
  const said = [];
  const live = createLiveness(clock, { dead: (ms) => said.push(`dead ${ms}`), woke: (ms) => said.push(`woke ${ms}`) });
  return { clock, said, live };
}

test('silence longer than the limit is death, said once', () => {
  const { clock, said, live } = watch();
  live.watch(2000);
  clock.advance(2000);
  assert.deepEqual(said, []);
  clock.advance(1000);
  assert.deepEqual(said, ['dead 3000']);
  clock.advance(10_000);
  assert.equal(said.length, 1);
});

test('a beat restarts the count; pause stops it', () => {
  const { clock, said, live } = watch();
  live.watch(2000);
  for (let i = 0; i < 10; i++) {
    clock.advance(1500);
    live.beat();
  }
  assert.deepEqual(said, []);
  live.pause();
  clock.advance(60_000);
  assert.deepEqual(said, []);
});

test('a change in the watched progress counts as a sign of life', () => {
  const { clock, said, live } = watch();
  let nodes = 0;
  live.watch(2000, () => nodes);
  for (let i = 0; i < 5; i++) {
    nodes += 1;
    clock.advance(1000);
  }
  assert.deepEqual(said, []);
  clock.advance(3000);
  assert.equal(said.length, 1);
});

test('the wall clock running ahead of the monotonic one (sleep) is said at once', () => {
  const { clock, said, live } = watch();
  live.watch(60_000);
  clock.advance(1000);
  clock.sleep(3_600_000);
  clock.advance(1000);
  assert.deepEqual(said, ['woke 3600000']);
});

test('stop ends the tick', () => {
  const { clock, said, live } = watch();
  live.watch(1000);
  live.stop();
  clock.advance(10_000);
  clock.sleep(100_000);
  clock.advance(10_000);
  assert.deepEqual(said, []);
});
