// Multipart streaming: one response of type multipart/x-mixed-replace, one JSON part per
// event. Browsers no longer hand the parts to scripts (XMLHttpRequest's `multipart` flag is
// gone), so we read the body with fetch() as it arrives and cut it into parts ourselves.

import { autostart } from '../lib/demo.js';
import { pushUrl } from '../lib/channel.js';
import { createCursor } from '../lib/cursor.js';
import { byteLength, requestLine } from '../lib/log.js';
import { keepConnected, wireReconnectButton } from '../lib/stream.js';
import { CHUNK_FRAMING, RESPONSE_HEADERS } from '../lib/wire.js';

// The server sends a heartbeat part after 15 s of quiet; 40 s of silence means trouble.
const WATCHDOG_MS = 40000;

/** The boundary named in a Content-Type such as `multipart/x-mixed-replace; boundary=abc`. */
function boundaryOf(contentType) {
  const match = /boundary="?([^";,\s]+)"?/i.exec(contentType || '');
  return match ? match[1] : null;
}

/**
 * Cuts a multipart body into parts as text comes in. Each part is
 * `--BOUNDARY\r\n<headers>\r\n\r\n<JSON>\r\n`; the body ends with `--BOUNDARY--`.
 * `onPart` gets each part's parsed JSON and its text on the wire, boundary line and headers
 * included; `push` returns false once the closing line is seen.
 */
function createPartReader(boundary, onPart) {
  const delimiter = `--${boundary}`;
  let buffer = '';
  return function push(text) {
    buffer += text;
    for (;;) {
      const start = buffer.indexOf(delimiter);
      if (start < 0) return true;
      const after = start + delimiter.length;
      if (buffer.length < after + 2) return true;
      if (buffer.startsWith('--', after)) return false; // the closing delimiter
      const headersEnd = buffer.indexOf('\r\n\r\n', after);
      if (headersEnd < 0) return true;
      const bodyStart = headersEnd + 4;
      // A part is over at the next delimiter; but that only comes with the next event, so
      // a part whose text already parses as JSON up to a line break is taken at once.
      const next = buffer.indexOf(`\r\n${delimiter}`, bodyStart);
      let end = next;
      let value;
      if (next >= 0) {
        value = JSON.parse(buffer.slice(bodyStart, next));
      } else {
        end = buffer.lastIndexOf('\r\n');
        if (end < bodyStart) return true;
        try {
          value = JSON.parse(buffer.slice(bodyStart, end));
        } catch {
          return true; // not complete yet
        }
      }
      const wire = buffer.slice(start, end + 2);
      buffer = buffer.slice(end + 2);
      onPart(value, wire);
    }
  };
}

export function start(log, doc = document) {
  const cursor = createCursor();

  function open(session) {
    const abort = new AbortController();
    let ended = null; // the reason given by the server's last part
    let boundary = '';
    const url = cursor.url(pushUrl('multipart'));
    session.begin(requestLine(url));

    function onPart(part, wire) {
      session.alive();
      log.frame();
      log.raw(wire, `the last part of the open multipart answer (boundary --${boundary}), ${byteLength(wire)} B`);
      const label = part.type ?? 'event';
      session.mark?.push({ text: label, size: byteLength(wire), detail: `multipart part (${label})` });
      // A heartbeat or the opening hello (the server's clock) is only a sign of life.
      if (part.type === 'heartbeat' || part.type === 'hello') return;
      if (part.type === 'reset') {
        cursor.update({ reset: true, next: part.next, reset_reason: part.reason }, log);
      } else if (part.type === 'end') {
        ended = part.reason;
        if (part.next) cursor.update({ next: part.next });
      } else if (part.id && log.event(part)) {
        cursor.update({ next: part.id });
      }
    }

    (async () => {
      const res = await fetch(url, {
        cache: 'no-store',
        signal: abort.signal,
      });
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      boundary = boundaryOf(res.headers.get('Content-Type'));
      if (!boundary) throw new Error('the answer names no multipart boundary');
      // The headers are not counted by fetch: estimate them, then count the body as it comes.
      log.bytes(RESPONSE_HEADERS);
      session.opened();
      const push = createPartReader(boundary, onPart);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        log.bytes(value.byteLength + CHUNK_FRAMING);
        session.alive();
        if (!push(decoder.decode(value, { stream: true }))) break;
      }
      if (ended) session.ended(ended);
      else session.failed('the stream stopped without an end part');
    })().catch((err) => {
      // Our own abort (the connection was replaced) is not a failure.
      if (!abort.signal.aborted) session.failed(err.message);
    });

    return () => abort.abort();
  }

  const stream = keepConnected({ open, log, cursor, watchdogMs: WATCHDOG_MS });
  wireReconnectButton(stream.reconnect, doc);
}

autostart('multipart-streaming', start);
