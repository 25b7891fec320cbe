// The loop every request-and-answer transport shares: ask, hand the answer over, ask again;
// at once for a long poll, after the interval for polling. The first request of a long poll
// is a plain poll, answered at once, so the connection opens without waiting for news.
// A failure ends the session; the connection decides what comes next.

import { statusFailure } from '../http.js';

/**
 * @param {import('../reverse-ajax.js').Context} ctx
 * @param {(held: boolean) => {answer: Promise<object>, abort: () => void}} ask
 * @param {boolean} held true for a long poll
 */
export function pollLoop(ctx, ask, held) {
  const { options, env } = ctx;
  let stopped = false;
  let request = null;
  let timer;
  const step = async (first) => {
    if (stopped) return;
    const long = held && !first;
    // A long poll may be silent up to the server's cap; a poll answers within the open timeout.
    if (!first) ctx.expect(long ? options.longPollCapMs + options.openTimeoutMs : options.pollIntervalMs + options.openTimeoutMs);
    try {
      request = ask(long);
      const answer = await request.answer;
      if (stopped) return;
      ctx.batch(answer);
    } catch (err) {
      if (!stopped) ctx.fail(err);
      return;
    }
    if (held) step(false);
    else timer = env.setTimeout(() => step(false), options.pollIntervalMs);
  };
  step(true);
  return () => {
    stopped = true;
    env.clearTimeout(timer);
    request?.abort();
  };
}

/** One request with fetch, answered with the batch JSON. */
export function fetchJson(ctx, url) {
  const abort = new AbortController();
  ctx.trace('send', url);
  const answer = ctx.env
    .fetch(url, { headers: ctx.headers({ Accept: 'application/json' }), cache: 'no-store', signal: abort.signal })
    .then(async (res) => {
      if (!res.ok) throw statusFailure(res, ctx.env.now());
      return res.json();
    });
  return { answer, abort: () => abort.abort() };
}
