// What the HTTP transports share: failures that say whether retrying can help, and reading
// a streamed body as text.

import { retryAfterMs } from './backoff.js';

/** Statuses that the same request will get again: the next transport is tried instead. */
const FATAL = new Set([400, 403, 404, 405, 406, 410, 414, 415, 426, 501]);

/**
 * An Error with the facts the negotiation needs.
 * @param {string} message
 * @param {{status?: number, fatal?: boolean, silent?: boolean, retryAfterMs?: number | null}} [facts]
 */
export function failure(message, facts = {}) {
  return Object.assign(new Error(message), facts);
}

/** The failure for an answer that is not 2xx. */
export function statusFailure(res, now) {
  return failure(`the server answered ${res.status}`, {
    status: res.status,
    fatal: FATAL.has(res.status),
    retryAfterMs: retryAfterMs(res.headers.get('Retry-After'), now),
  });
}

/**
 * Fetches `url` and hands its body to `onText` piece by piece as it arrives; `ctx.responded()`
 * is called when the headers are in and `ctx.alive()` on every piece. Resolves true when the
 * body ended; failures go to `ctx.fail` unless `abort` was used.
 */
export async function readStream(ctx, url, accept, abort, onText) {
  try {
    ctx.trace('send', url);
    const res = await ctx.env.fetch(url, {
      headers: ctx.headers({ Accept: accept }),
      cache: 'no-store',
      signal: abort.signal,
    });
    if (!res.ok) throw statusFailure(res, ctx.env.now());
    ctx.responded();
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (abort.signal.aborted) return false;
      if (done) return true;
      ctx.alive();
      const text = decoder.decode(value, { stream: true });
      ctx.trace('receive', text);
      if (onText(text) === false) return true;
    }
  } catch (err) {
    if (!abort.signal.aborted) ctx.fail(err.status ? err : failure(err.message));
    return false;
  }
}

/** JSON.parse that returns undefined for text that is not JSON, instead of throwing. */
export function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
