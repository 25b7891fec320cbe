// Forever iframe: a hidden iframe loads a document that never finishes. Each event arrives
// as one more <script> in it, which calls `parent.foreverIframe(frame)` on this page.
// The server ends the document after a byte budget; we then load a fresh one from the
// last id, so nothing is lost.

import { autostart } from '../lib/demo.js';
import { pushUrl } from '../lib/channel.js';
import { createCursor } from '../lib/cursor.js';
import { byteLength, requestLine } from '../lib/log.js';
import { keepConnected, whenLoaded, wireReconnectButton } from '../lib/stream.js';
import { CHUNK_FRAMING, RESPONSE_HEADERS } from '../lib/wire.js';

// An iframe reports no errors to its parent: a broken stream just goes quiet. The server
// writes a heartbeat comment every 15 s, so 40 s without a frame or a new node means trouble.
const WATCHDOG_MS = 40000;
// What the server wraps around each frame:
// `<script nonce="<32 hex digits>">parent.foreverIframe(` … `);</script>\n`.
const WRAPPER_BYTES = 82;
// The document's head and the padding that comes before the first frame.
const PREAMBLE_BYTES = 1123;
// This answer carries its own Content-Security-Policy (with the nonce): longer headers.
const IFRAME_HEADERS = RESPONSE_HEADERS + 180;

/** True once the iframe holds our stream's document (not the initial blank one). */
function streaming(doc) {
  return Boolean(doc?.body && doc.URL.includes(pushUrl('iframe')));
}

/**
 * The last script chunk in the iframe's document, as the server wrote it. The parser keeps the
 * script's text exactly as it came (a script's content is never decoded), but it hides the
 * nonce: the attribute reads empty once the script has run, and only the `nonce` property
 * keeps it. So the chunk is rebuilt from those two, which is byte for byte what came on the
 * wire (the server writes nothing else into the element).
 */
function lastScript(iframe) {
  try {
    const scripts = iframe.contentDocument?.getElementsByTagName('script');
    if (!scripts?.length) return null;
    const script = scripts[scripts.length - 1];
    return `<script nonce="${script.nonce}">${script.textContent}</script>`;
  } catch {
    return null;
  }
}

export function start(log, doc = document) {
  const cursor = createCursor();
  let session = null; // the connection whose iframe is in the page now
  let endedWith = null; // the reason in that iframe's `end` frame, once it has come
  let frameElement = null; // that iframe

  // The iframe's scripts call this. Frames are JSON objects with a `type`.
  window.foreverIframe = (frame) => {
    if (!session?.live) return;
    const current = session;
    current.opened();
    current.alive();
    // Count the frame as the server wrote it (the script element around the JSON, and the
    // chunk's framing); the raw panel shows that script as it came.
    const size = byteLength(JSON.stringify(frame)) + WRAPPER_BYTES + CHUNK_FRAMING;
    log.bytes(size);
    log.frame();
    const chunk = frameElement ? lastScript(frameElement) : null;
    log.raw(
      chunk ?? JSON.stringify(frame),
      chunk
        ? 'the last script chunk of the iframe\'s document, as the server sent it (the nonce read from the element, since the parser hides the attribute)'
        : 'the frame the last script chunk handed to this page',
    );
    current.mark?.push({ text: frame.type, size, detail: `script chunk (${frame.type})` });
    if (frame.type === 'event') {
      if (log.event(frame.event)) cursor.update({ next: frame.event.id });
    } else if (frame.type === 'reset') {
      cursor.update({ reset: true, next: frame.next, reset_reason: frame.reason }, log);
    } else if (frame.type === 'end') {
      if (frame.next) cursor.update({ next: frame.next });
      endedWith = frame.reason;
      // Leave the iframe's own script before removing the iframe.
      setTimeout(() => current.ended(frame.reason));
    }
  };

  function open(connection) {
    session = connection;
    endedWith = null;
    let loaded = false;
    const iframe = document.createElement('iframe');
    iframe.className = 'stream-frame';
    iframe.title = 'event stream (hidden)';
    iframe.hidden = true;
    // The document finishing is expected after an `end` frame (which has already arranged
    // the next connection); without one, the stream broke or the server refused it.
    iframe.addEventListener('load', () => {
      loaded = true;
      if (session === connection && endedWith) return;
      connection.failed('the stream document finished without an end frame');
    });
    iframe.src = cursor.url(pushUrl('iframe'));
    connection.begin(requestLine(iframe.src));
    frameElement = iframe;
    document.body.append(iframe);
    log.bytes(IFRAME_HEADERS + PREAMBLE_BYTES);
    // Same origin, so we can watch the document grow: a heartbeat adds a comment node.
    const progress = () => {
      try {
        return iframe.contentDocument?.body?.childNodes.length ?? 0;
      } catch {
        return 0;
      }
    };
    // No event for "connected": the first sign that the server has accepted us is the
    // document's body appearing; check for it a few times.
    let tries = 0;
    const checkOpen = setInterval(() => {
      if (!connection.live || loaded || ++tries > 100) {
        clearInterval(checkOpen);
      } else if (streaming(iframe.contentDocument)) {
        clearInterval(checkOpen);
        connection.opened();
      }
    }, 50);
    return {
      close() {
        clearInterval(checkOpen);
        iframe.remove();
      },
      progress,
    };
  }

  whenLoaded(() => {
    const stream = keepConnected({ open, log, cursor, watchdogMs: WATCHDOG_MS });
    wireReconnectButton(stream.reconnect, doc);
  });
}

autostart('forever-iframe', start);
