// JSONP polling: each poll is a new <script>, answered at once with a call to our function.

import { canLoadScripts, jsonp } from './jsonp.js';
import { pollLoop } from './poll.js';

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'jsonp-polling',
  supported: canLoadScripts,
  open: (ctx) => pollLoop(ctx, () => jsonp(ctx, ctx.url('events')), false),
};
