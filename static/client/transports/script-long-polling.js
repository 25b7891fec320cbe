// Script-tag long polling: each long poll is a <script> the server holds until there is news
// or its cap, then answers as JSONP with the same batch as the XHR long poll.

import { canLoadScripts, jsonp } from './jsonp.js';
import { pollLoop } from './poll.js';

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'script-long-polling',
  supported: canLoadScripts,
  open: (ctx) => pollLoop(ctx, (held) => jsonp(ctx, ctx.url(held ? 'script' : 'events')), true),
};
