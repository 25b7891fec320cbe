import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ALL, DEFAULT_TRANSPORTS, candidates, decide, remember, remembered } from '../negotiate.js';
import { TRANSPORTS } from '../reverse-ajax.js';
import { memoryStorage } from './fakes.js';

test('all nine techniques are transports, piggyback only when asked for', () => {
  assert.deepEqual(Object.keys(TRANSPORTS).sort(), [...ALL].sort());
  assert.equal(ALL.length, 9);
  assert.ok(!DEFAULT_TRANSPORTS.includes('piggyback'));
});

test("candidates keep the caller's order and leave out what is unknown or unsupported", () => {
  const registry = {
    a: { supported: () => true },
    b: { supported: () => false },
    c: {},
  };
  const { list, skipped } = candidates(['c', 'b', 'zz', 'a', 'c'], registry, {}, '');
  assert.deepEqual(list, ['c', 'a']);
  assert.deepEqual(skipped, { b: 'not supported here', zz: 'unknown transport' });
});

test('in Node (no window, no WebSocket) the browser-only transports are out', () => {
  const env = { fetch: globalThis.fetch };
  const { list } = candidates(ALL, TRANSPORTS, env, 'http://x');
  assert.deepEqual(list, ['server-sent-events', 'multipart-streaming', 'long-polling', 'polling', 'piggyback']);
});

test('decide: what a failure leads to', () => {
  const err = (facts = {}) => Object.assign(new Error('x'), facts);
  const base = { opened: false, worked: false, failsInRow: 0, last: false };
  // A connection that had opened and dropped: the same transport again.
  assert.equal(decide({ ...base, err: err(), opened: true }), 'retry');
  // The server asked for patience.
  assert.equal(decide({ ...base, err: err({ status: 503 }) }), 'retry');
  assert.equal(decide({ ...base, err: err({ status: 429 }) }), 'retry');
  // Never opened: the next transport.
  assert.equal(decide({ ...base, err: err() }), 'fallback');
  assert.equal(decide({ ...base, err: err({ status: 404, fatal: true }) }), 'fallback');
  // It worked before: twice more, then the next, unless the failure says it cannot work.
  assert.equal(decide({ ...base, err: err(), worked: true, failsInRow: 1 }), 'retry');
  assert.equal(decide({ ...base, err: err(), worked: true, failsInRow: 2 }), 'fallback');
  assert.equal(decide({ ...base, err: err({ silent: true }), worked: true }), 'fallback');
  // The last transport failed: start again from the best.
  assert.equal(decide({ ...base, err: err(), last: true }), 'restart');
});

test('the transport that worked is remembered per origin for the given time', () => {
  const storage = memoryStorage();
  remember(storage, 'http://a', 'long-polling', 1000);
  assert.equal(remembered(storage, 'http://a', 1000 + 60_000, 1_800_000), 'long-polling');
  assert.equal(remembered(storage, 'http://a', 1000 + 1_800_000, 1_800_000), null);
  assert.equal(remembered(storage, 'http://b', 1000, 1_800_000), null);
  storage.setItem('ra-transport:http://a', '{not json');
  assert.equal(remembered(storage, 'http://a', 1000, 1_800_000), null);
});
