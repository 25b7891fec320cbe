import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createCursorStore, safeStorage } from '../cursor.js';
import { memoryStorage } from './fakes.js';

test('the stored cursor is where a new store resumes; since overrides it', () => {
  const storage = memoryStorage();
  const first = createCursorStore(storage, 'k', undefined);
  assert.equal(first.id, null);
  assert.ok(first.take({ id: 'a-1' }));
  assert.ok(first.take({ id: 'a-2' }));
  assert.equal(createCursorStore(storage, 'k', undefined).id, 'a-2');
  assert.equal(createCursorStore(storage, 'k', 'a-1').id, 'a-1');
  assert.equal(createCursorStore(storage, 'k', 'now').id, null);
  assert.equal(createCursorStore(storage, 'other', undefined).id, null);
});

test('an event is taken once: a duplicate id is dropped and leaves the cursor alone', () => {
  const store = createCursorStore(memoryStorage(), 'k', undefined);
  assert.ok(store.take({ id: 'a-1' }));
  assert.ok(store.take({ id: 'a-2' }));
  assert.equal(store.take({ id: 'a-1' }), false);
  assert.equal(store.id, 'a-2');
  assert.equal(store.take({}), false);
  assert.equal(store.take(null), false);
});

test('move follows an answer without delivering, and is stored', () => {
  const storage = memoryStorage();
  const store = createCursorStore(storage, 'k', undefined);
  store.move('b-7');
  store.move(undefined);
  assert.equal(store.id, 'b-7');
  assert.equal(storage.getItem('k'), 'b-7');
});

test('a refused storage falls back to memory, and a full one costs only persistence', () => {
  const refused = safeStorage(() => {
    throw new Error('SecurityError');
  });
  refused.setItem('x', 1);
  assert.equal(refused.getItem('x'), '1');
  const full = { getItem: () => null, setItem: () => { throw new Error('QuotaExceeded'); } };
  const store = createCursorStore(full, 'k', undefined);
  assert.ok(store.take({ id: 'a-1' }));
  assert.equal(store.id, 'a-1');
});
