// The loop shared by the long-polling pages: open a request that the server holds until it
// has news, handle the answer, and open the next one at once. Only failures pause the loop,
// with capped back-off. `reconnect()` abandons the request in flight and opens a fresh one
// from the same bookmark.

import { createBackoff } from './backoff.js';

/**
 * Calls `poll(signal)` (a promise) over and over. `signal` aborts when the poll is
 * abandoned; the poll should then stop, and whatever it throws is ignored.
 */
export function runLongPolling({ poll, log }) {
  const backoff = createBackoff({ base: 1000, max: 30000 });
  let current = null; // the AbortController of the poll in flight
  let timer = null;

  async function next() {
    clearTimeout(timer);
    const controller = new AbortController();
    current = controller;
    try {
      await poll(controller.signal);
      if (controller.signal.aborted) return; // replaced while finishing
      backoff.reset();
      timer = setTimeout(next, 0);
    } catch (err) {
      if (controller.signal.aborted) return; // replaced on purpose: not a failure
      const wait = backoff.fail();
      log.error(`${err.message}; retrying in ${(wait / 1000).toFixed(1)} s`);
      timer = setTimeout(next, wait);
    }
  }

  next();
  return {
    reconnect() {
      current?.abort();
      next();
    },
  };
}
