// Server-Sent Events: the browser's EventSource reads a text/event-stream, remembers the
// last `id:` it saw and, when the connection drops, reconnects by itself and sends that id
// back in the Last-Event-ID header. We only open it and listen.

import { autostart } from '../lib/demo.js';
import { pushUrl } from '../lib/channel.js';
import { createCursor } from '../lib/cursor.js';
import { byteLength, requestLine } from '../lib/log.js';
import { keepConnected, wireReconnectButton } from '../lib/stream.js';
import { CHUNK_FRAMING, RESPONSE_HEADERS } from '../lib/wire.js';

export function start(log, doc = document) {
  const cursor = createCursor();

  /** One message as the server wrote it (EventSource hands over only its fields). */
  function wireText(message, type) {
    const lines = [];
    if (type) lines.push(`event: ${type}`);
    if (message.lastEventId) lines.push(`id: ${message.lastEventId}`);
    for (const line of message.data.split('\n')) lines.push(`data: ${line}`);
    return `${lines.join('\n')}\n\n`;
  }

  /** Counts a message's bytes (rebuilt text plus chunk framing) and shows it as raw. */
  function received(session, message, type, label) {
    const text = wireText(message, type);
    const size = byteLength(text) + CHUNK_FRAMING;
    log.bytes(size);
    log.frame();
    log.raw(text, `a message on the open stream, rebuilt from what EventSource handed over (${byteLength(text)} B)`);
    session.mark?.push({ text: label, size, detail: `SSE message${type ? ` (${type})` : ''}` });
  }

  function open(session) {
    // The first connection cannot set headers, so it names its bookmark in the URL; on the
    // browser's own reconnections the Last-Event-ID header wins over it.
    const base = pushUrl('sse');
    const url = cursor.since ? `${base}?last_event_id=${encodeURIComponent(cursor.since)}` : base;
    const source = new EventSource(url);
    let opens = 0;
    session.begin(requestLine(url));

    source.addEventListener('open', () => {
      opens += 1;
      // The response headers, and the `retry:` line the server starts with.
      log.bytes(RESPONSE_HEADERS + byteLength('retry: 3000\n\n'));
      if (opens > 1) {
        // The browser reconnected on its own: that is one more request.
        session.mark?.end('reconnected by the browser');
        session.begin(`${requestLine(base)} (Last-Event-ID: ${cursor.since ?? 'none'})`);
        log.client(`reconnected by the browser (Last-Event-ID: ${cursor.since ?? 'none'})`);
      }
      session.opened();
    });

    // Events without an `event:` line arrive as "message"; each carries one envelope.
    source.addEventListener('message', (message) => {
      session.alive();
      received(session, message, '', 'event');
      const event = JSON.parse(message.data);
      if (log.event(event)) cursor.update({ next: event.id });
    });

    // The server's first words on every connection: its clock and heartbeat interval.
    source.addEventListener('hello', (message) => {
      session.alive();
      received(session, message, 'hello', 'hello');
    });

    source.addEventListener('reset', (message) => {
      received(session, message, 'reset', 'reset');
      const { next, reason } = JSON.parse(message.data);
      cursor.update({ reset: true, next, reset_reason: reason }, log);
    });

    source.addEventListener('shutdown', (message) => {
      received(session, message, 'shutdown', 'shutdown');
      log.server('shutting down; the browser will reconnect after the retry delay');
    });

    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CONNECTING) {
        // EventSource tries again by itself, after the server's `retry:` delay.
        log.client(`connection lost; the browser reconnects from ${cursor.since ?? 'now'}`);
      } else {
        // CLOSED: the server refused (an HTTP error or a wrong type); EventSource gives up.
        session.failed('the event stream was refused');
      }
    });

    return () => source.close();
  }

  const stream = keepConnected({ open, log, cursor });
  wireReconnectButton(stream.reconnect, doc);
}

autostart('server-sent-events', start);
