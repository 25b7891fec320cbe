// XHR long polling: the server holds each request until there is news or its cap, answering
// `{"events":[…],"next":"<id>","reset":bool}`; the next request leaves at once.

import { fetchJson, pollLoop } from './poll.js';

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'long-polling',
  supported: (env) => typeof env.fetch === 'function',
  open: (ctx) => pollLoop(ctx, (held) => fetchJson(ctx, ctx.url(held ? 'long-poll' : 'events')), true),
};
