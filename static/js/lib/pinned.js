// A technique page's demo: the client library (static/client/reverse-ajax.js) pinned to that
// one technique, exactly as an application would use it, and shown at work in the page's log,
// counters, live timeline and raw panel. Nothing here moves an event: the library connects,
// reconnects, resumes and drops duplicates; this module only watches it, through the state
// it reports (`onState`), the events it delivers (`onEvent`, `onReset`) and the steps of its
// transport on the wire (`onTrace`).

import { connect } from '../../client/reverse-ajax.js';
import { channel, originFor, settings } from './channel.js';
import { byteLength, requestLine } from './log.js';
import { CHUNK_FRAMING, RESPONSE_HEADERS, UPGRADE_HEADERS, countTransfer, wsFrameBytes } from './wire.js';

/** The request-and-answer transports: each request gets an answer of its own. */
const POLLS = new Set(['polling', 'long-polling', 'jsonp-polling', 'script-long-polling']);
/** Those whose answers arrive as scripts: the page sees the value, not the text. */
const SCRIPTS = new Set(['jsonp-polling', 'script-long-polling']);

// What the server wraps around each forever-iframe frame:
// `<script nonce="<32 hex digits>">parent.foreverIframe(` … `);</script>\n`.
const IFRAME_WRAPPER_BYTES = 82;
// The iframe document's head and the padding before its first frame, and its longer headers
// (it carries its own Content-Security-Policy with the nonce).
const IFRAME_PREAMBLE_BYTES = 1123 + 180;

/**
 * The last script chunk in the document of the stream iframe loaded from `url`, as the
 * server wrote it. The parser keeps a script's text exactly as it came, but hides the nonce:
 * the attribute reads empty once the script has run, and only the `nonce` property keeps it.
 * So the chunk is rebuilt from those two, which is byte for byte what came on the wire.
 */
function lastScript(url) {
  try {
    const iframe = [...document.querySelectorAll('iframe')].find((f) => f.src === url);
    const scripts = iframe?.contentDocument?.getElementsByTagName('script');
    if (!scripts?.length) return null;
    const script = scripts[scripts.length - 1];
    return `<script nonce="${script.nonce}">${script.textContent}</script>`;
  } catch {
    return null;
  }
}

/** True for the URL of a request the server holds (a long poll's, not its first plain poll). */
const isHeld = (url) => /\/push\/[^/]+\/(long-poll|script)\b/.test(url);

/** The `callback=` a JSONP URL names, for rebuilding the script the server sent. */
const callbackOf = (url) => new URL(url, location.href).searchParams.get('callback') ?? 'callback';

/** Seconds between polls: `?interval=` in the page URL wins over the input's value. */
function intervalReader(doc, fallback = 2) {
  const input = doc.getElementById('interval');
  const fromUrl = Number.parseFloat(new URLSearchParams(location.search).get('interval'));
  if (input && fromUrl > 0) input.value = String(fromUrl);
  return () => {
    const seconds = Number.parseFloat(input ? input.value : fromUrl) || fallback;
    return Math.max(0.05, seconds) * 1000;
  };
}

/**
 * Connects this tab's channel with `transports: [slug]` and shows what happens in `log`;
 * wires the page's Reconnect button and, for the polls, its interval. `options` go to
 * `connect` as well. Returns `{ conn, reconnect() }`: `conn` is the library's connection
 * now, and `reconnect()` closes it and connects again from its cursor.
 */
export function runPinned(slug, log, doc = document, options = {}) {
  const polls = POLLS.has(slug);
  const interval = intervalReader(doc);
  // The library reads its interval when it connects: a new one takes a new connection.
  if (polls) options.pollIntervalMs ??= interval();
  let conn = null;

  function open(since) {
    let live = true; // false once the Reconnect button replaced this connection
    let current = null;
    let mark = null; // the timeline mark of the request or connection in flight
    let markOpen = false;
    let url = '';
    let headersIn = false;
    let last = { status: '', attempt: 0 };

    const closeMark = (why, failed) => {
      if (!markOpen) return;
      markOpen = false;
      if (failed) mark.fail(why);
      else mark.end(why);
    };

    /** The stream's headers came (shown by its first byte or frame): count them once. */
    const arrived = () => {
      if (headersIn) return;
      headersIn = true;
      if (slug === 'websocket') {
        log.bytes(UPGRADE_HEADERS);
        mark?.answer({ status: 101, size: UPGRADE_HEADERS, kind: 'upgrade', text: 'Switching Protocols' });
      } else {
        log.bytes(slug === 'forever-iframe' ? RESPONSE_HEADERS + IFRAME_PREAMBLE_BYTES : RESPONSE_HEADERS);
      }
    };

    const trace = {
      send(sent) {
        closeMark('replaced');
        url = sent;
        headersIn = false;
        const held = !polls || isHeld(sent);
        if (polls) log.client(held ? 'waiting for events...' : 'checking for events...');
        const line = requestLine(sent);
        mark = slug === 'websocket' ? log.request(`${line} (Upgrade: websocket)`, { pipe: true }) : log.request(line, { held });
        markOpen = true;
      },
      receive(text) {
        arrived();
        log.bytes(byteLength(text) + CHUNK_FRAMING);
        log.raw(text, `the last piece of the open ${slug === 'multipart-streaming' ? 'multipart answer' : 'event stream'}, as it came (${byteLength(text)} B)`);
      },
      frame(frame) {
        arrived();
        const text = JSON.stringify(frame);
        let size = byteLength(text);
        const label = frame.type ?? 'event';
        if (slug === 'websocket') {
          size = wsFrameBytes(size);
          log.bytes(size);
          log.raw(text, `the last text frame from the server (${byteLength(text)} B of payload)`);
        } else if (slug === 'forever-iframe') {
          size += IFRAME_WRAPPER_BYTES + CHUNK_FRAMING;
          log.bytes(size);
          const chunk = lastScript(url);
          log.raw(
            chunk ?? text,
            chunk
              ? 'the last script chunk of the iframe\'s document, as the server sent it (the nonce read from the element, since the parser hides the attribute)'
              : 'the frame the last script chunk handed to this page',
          );
        }
        log.frame();
        mark?.push({ text: label, size, detail: `${slug} frame (${label})` });
      },
      answer(answer) {
        const json = JSON.stringify(answer);
        const body = SCRIPTS.has(slug) ? `/**/${callbackOf(url)}(${json});` : json;
        const size = byteLength(body);
        const rebuilt = SCRIPTS.has(slug) ? ', rebuilt from the value the callback received' : '';
        log.raw(body, `${requestLine(url)} → 200${rebuilt}, ${size} B of body`);
        const count = answer.events?.length ?? 0;
        mark?.answer({ status: 200, size, kind: count ? 'data' : 'empty', text: count ? `${count} event${count === 1 ? '' : 's'}` : '' });
        markOpen = false;
        countTransfer(url, size, log, mark);
        if (slug.endsWith('long-polling') && !isHeld(url)) {
          // The library opens a long poll with a plain poll, answered at once: it is not one of
          // the held answers the counters are about.
          log.client(`the opening poll brought ${count ? `${count} event${count === 1 ? '' : 's'}` : 'no event'}`);
        } else {
          log.answered(answer.events ?? []);
        }
      },
    };

    const resume = () => (current?.cursor ? `resuming from ${current.cursor}` : 'starting from now');

    current = connect(channel(), {
      url: originFor(slug) || undefined,
      since,
      ...options,
      transports: [slug],
      onEvent: (event) => log.event(event),
      onReset({ reason, next }) {
        log.client(`cursor reset by the server (${reason}): some events may be missing; continuing from ${next}`);
      },
      onTrace: ({ kind, data }) => live && trace[kind]?.(data),
      onState(state) {
        if (!live) return;
        const was = last;
        last = state;
        // The server ended the stream on purpose (a byte budget, a client that fell behind, a
        // shutdown): not a failure, even when the library waits a moment before it returns.
        const ended = /^ended \(([^)]+)\)(?: at once; next try in (.+))?$/.exec(state.cause ?? '');
        const shutdown = /^the server is shutting down; next try in (.+)$/.exec(state.cause ?? '');
        if (state.status === 'open') {
          if (was.status !== 'open') log.client('connected');
        } else if (state.status === 'connecting') {
          if (!was.status) log.client('connecting...');
          else if (ended || shutdown) {
            const why = ended ? ended[1] : 'shutdown';
            const wait = ended ? ended[2] : shutdown[1];
            closeMark(why);
            log.client(`stream ended (${why}); ${resume()}${wait ? ` in ${wait}` : ''}`);
          } else if (state.attempt > was.attempt) {
            closeMark(state.cause, true);
            log.error(`${state.cause}, ${resume()}`);
          } else if (state.cause) {
            closeMark(state.cause);
            log.client(`${state.cause}; ${resume()}`);
          }
        } else if (state.status === 'offline') {
          closeMark(state.cause);
          log.client(state.cause);
        } else if (state.status === 'closed' && state.cause !== 'closed by the app') {
          log.error(state.cause);
        }
      },
    });
    conn = current;
    return {
      stop(why) {
        closeMark(why);
        live = false;
        current.close();
      },
    };
  }

  // The page starts from the head the server rendered it with (or "now"), not from a cursor
  // an earlier page left in this tab: each page shows its own lesson from its start.
  const first = options.since ?? settings().next ?? 'now';
  delete options.since;
  let session = open(first);
  const demo = {
    get conn() {
      return conn;
    },
    reconnect(why = 'dropping the connection on request') {
      const old = conn;
      log.client(`${why}; ${old.cursor ? `resuming from ${old.cursor}` : 'starting from now'}`);
      session.stop('dropped by the page');
      session = open(old.cursor ?? first);
    },
  };
  doc.getElementById('reconnect')?.addEventListener('click', () => demo.reconnect());
  doc.getElementById('interval')?.addEventListener('change', () => {
    options.pollIntervalMs = interval();
    demo.reconnect(`polling every ${options.pollIntervalMs / 1000} s now`);
  });
  return demo;
}
