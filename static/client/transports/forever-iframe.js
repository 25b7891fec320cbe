// Forever iframe: a hidden iframe loads a document that never finishes; each frame arrives as
// one more <script> in it, calling `parent.foreverIframe(frame)`. Only for a server on the
// page's own origin (the iframe's scripts call into this page).

import { failure } from '../http.js';

/** The iframes streaming now, each with its session. */
const streams = new Set();

/**
 * The function the iframes' scripts call. With several streams, the one whose document is
 * running a script right now is the caller.
 */
function route(frame) {
  for (const stream of streams) {
    if (streams.size === 1 || stream.iframe.contentDocument?.currentScript) return stream.take(frame);
  }
}

/**
 * Adds `node` (an iframe, a script) to the document's `where` ('head' or 'body') once the
 * page has loaded, if `wanted()` still says so: one added before holds the page's load event
 * back. The request it makes is traced as sent.
 */
export function appendLater(ctx, where, node, wanted) {
  const { document: doc, window: win } = ctx.env;
  const add = () => {
    if (!wanted()) return;
    ctx.trace('send', node.src);
    doc[where].append(node);
  };
  if (doc.readyState === 'complete') add();
  else win.addEventListener('load', add, { once: true });
}

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'forever-iframe',
  supported: (env, base) => Boolean(env.document && env.window) && (!base || base === env.window.location.origin),
  open(ctx) {
    const { document: doc, window: win } = ctx.env;
    win.foreverIframe = route;
    const iframe = doc.createElement('iframe');
    iframe.hidden = true;
    iframe.title = 'event stream';
    let ended = false;
    const stream = {
      iframe,
      take(frame) {
        if (frame?.type === 'end') ended = true;
        ctx.frame(frame);
      },
    };
    streams.add(stream);
    // The document finishing is expected after an `end` frame; without one, the stream broke
    // or the server refused it (an iframe tells its parent no status).
    iframe.onload = () => ended || ctx.fail(failure('the stream document finished without an end frame'));
    iframe.src = ctx.url('iframe');
    // Heartbeats are comments: a growing document is a sign of life.
    ctx.watch(() => {
      try {
        return iframe.contentDocument?.body?.childNodes.length ?? 0;
      } catch {
        return 0;
      }
    });
    appendLater(ctx, 'body', iframe, () => streams.has(stream));
    return () => {
      streams.delete(stream);
      iframe.onload = null;
      // Let a script of the iframe that is running now (the `end` frame's) finish first.
      ctx.env.setTimeout(() => iframe.remove(), 0);
    };
  },
};
