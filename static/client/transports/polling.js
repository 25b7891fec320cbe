// HTTP polling: ask, wait the interval, ask again. The server answers at once.

import { fetchJson, pollLoop } from './poll.js';

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'polling',
  supported: (env) => typeof env.fetch === 'function',
  open: (ctx) => pollLoop(ctx, () => fetchJson(ctx, ctx.url('events')), false),
};
