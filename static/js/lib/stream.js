// Keeps one long-lived connection open (a forever iframe, a multipart fetch, an
// EventSource, a WebSocket) and opens a new one from the last event id whenever it ends.
//
// A page supplies `open(session)`, which starts one connection and returns a function that
// drops it. The connection reports back through `session`: `opened()` once the server has
// accepted it, `alive()` on any sign of life (an event, a heartbeat, more bytes), `ended(why)`
// when the server closed it on purpose and `failed(message)` when it broke. Reports from a
// connection that has since been replaced are ignored, so a late callback can never start a
// second connection.

import { createBackoff } from './backoff.js';

/**
 * Starts connecting at once and returns `{ reconnect }`, which drops the current connection
 * and opens a new one from the cursor.
 *
 * `watchdogMs`: when a connection shows no sign of life for this long it is treated as
 * broken (0 to turn the watchdog off). `progress()` may be returned by `open` next to the
 * drop function, as `{ close, progress }`, for transports whose life signs the page cannot
 * observe as events (the forever iframe's heartbeat comments).
 */
export function keepConnected({ open, log, cursor, watchdogMs = 0 }) {
  const backoff = createBackoff({ base: 1000, max: 30000 });
  let current = null; // { drop(), progress(), session }
  let retryTimer = null;
  let lastSign = Date.now();
  let lastProgress = null;

  function resumeText() {
    return cursor.since ? `resuming from ${cursor.since}` : 'starting from now';
  }

  function schedule(wait) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, wait);
  }

  function connect() {
    clearTimeout(retryTimer);
    current?.drop();
    log.client('connecting...');
    lastSign = Date.now();
    lastProgress = null;

    let live = true;
    let accepted = false;
    let close = () => {};
    let mark = null;
    const finish = (why) => {
      live = false;
      mark?.end(why);
      close();
    };
    const session = {
      /**
       * Counts the connection and draws it on the timeline: `line` is its request line,
       * `options` as for the timeline (`held`, `pipe`). Returns the timeline mark.
       */
      begin(line, options = { held: true }) {
        mark = log.request(line, options);
        return mark;
      },
      /** The timeline mark of this connection (after `begin`). */
      get mark() {
        return mark;
      },
      /** True until this connection is replaced or over. */
      get live() {
        return live;
      },
      /** The server accepted the connection (repeat calls are ignored). */
      opened() {
        if (!live || accepted) return;
        accepted = true;
        lastSign = Date.now();
        backoff.reset();
        log.client('connected');
      },
      alive() {
        if (live) lastSign = Date.now();
      },
      ended(why) {
        if (!live) return;
        finish(why);
        // The server ended the stream on purpose: after a byte budget, or because this
        // client fell behind, come straight back; a server going down deserves a pause.
        const wait = why === 'shutdown' ? backoff.fail() : 0;
        const when = wait ? ` in ${(wait / 1000).toFixed(1)} s` : '';
        log.client(`stream ended (${why}); ${resumeText()}${when}`);
        schedule(wait);
      },
      failed(message) {
        if (!live) return;
        if (mark && !accepted) mark.fail(message);
        finish(message);
        const wait = backoff.fail();
        log.error(`${message}; reconnecting in ${(wait / 1000).toFixed(1)} s, ${resumeText()}`);
        schedule(wait);
      },
    };
    const handle = open(session);
    const progress = typeof handle === 'function' ? null : handle.progress;
    close = typeof handle === 'function' ? handle : handle.close;
    current = {
      session,
      progress,
      drop() {
        if (live) mark?.end('dropped by the page');
        live = false;
        close();
      },
    };
  }

  if (watchdogMs > 0) {
    setInterval(() => {
      if (!current?.session.live) return;
      if (current.progress) {
        const now = current.progress();
        if (now !== lastProgress) {
          lastProgress = now;
          lastSign = Date.now();
        }
      }
      if (Date.now() - lastSign > watchdogMs) {
        current.session.failed(`no sign of life for ${Math.round(watchdogMs / 1000)} s`);
      }
    }, Math.min(5000, watchdogMs / 4));
  }

  connect();
  return {
    reconnect() {
      log.client(`dropping the connection on request; ${resumeText()}`);
      connect();
    },
  };
}

/** Wires `<button id="reconnect">` to `reconnect()`. */
export function wireReconnectButton(reconnect, doc = document) {
  doc.getElementById('reconnect')?.addEventListener('click', () => reconnect());
}

/**
 * Runs `fn` once the page has finished loading. An iframe or a script element added before
 * that holds the page's `load` event back until it completes, and a held request never
 * completes: the tab would look like it is loading forever.
 */
export function whenLoaded(fn) {
  if (document.readyState === 'complete') fn();
  else window.addEventListener('load', () => fn(), { once: true });
}
