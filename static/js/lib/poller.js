// The loop shared by the polling pages: run one poll, wait, run the next. Each wait
// starts only when the previous poll has finished (a setTimeout chain, never
// setInterval), and failures stretch the wait with back-off.

import { createBackoff } from './backoff.js';

/** Seconds between polls: `?interval=` in the page URL wins over the input's value. */
export function intervalReader(doc = document, fallback = 2) {
  const input = doc.getElementById('interval');
  const fromUrl = Number.parseFloat(new URLSearchParams(location.search).get('interval'));
  if (input && fromUrl > 0) input.value = String(fromUrl);
  return () => {
    const seconds = Number.parseFloat(input ? input.value : fromUrl) || fallback;
    return Math.max(0.05, seconds) * 1000;
  };
}

/** Calls `poll()` (which returns a promise) forever, `delay()` ms apart. */
export function runPolling({ poll, delay, log }) {
  const backoff = createBackoff({ base: 1000, max: 30000 });
  async function tick() {
    let wait;
    try {
      await poll();
      backoff.reset();
      wait = delay();
    } catch (err) {
      wait = Math.max(delay(), backoff.fail());
      log.error(`${err.message}; retrying in ${(wait / 1000).toFixed(1)} s`);
    }
    setTimeout(tick, wait);
  }
  tick();
}
