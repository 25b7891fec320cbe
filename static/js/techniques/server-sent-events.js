// Server-Sent Events: the browser's EventSource reads a text/event-stream, remembers the
// last `id:` it saw and, when the connection drops, reconnects by itself and sends that id
// back in the Last-Event-ID header. We only open it and listen.

import { createLog, byteLength } from '../lib/log.js';
import { createCursor } from '../lib/cursor.js';
import { keepConnected, wireReconnectButton } from '../lib/stream.js';
import { wireSendButton } from '../lib/send.js';

export function start(log) {
  const cursor = createCursor();

  function open(session) {
    // The first connection cannot set headers, so it names its bookmark in the URL; on the
    // browser's own reconnections the Last-Event-ID header wins over it.
    const url = cursor.since
      ? `push/demo/sse?last_event_id=${encodeURIComponent(cursor.since)}`
      : 'push/demo/sse';
    const source = new EventSource(url);
    let opens = 0;

    source.addEventListener('open', () => {
      opens += 1;
      if (opens > 1) {
        // The browser reconnected on its own: that is one more request.
        log.request();
        log.client(`reconnected by the browser (Last-Event-ID: ${cursor.since ?? 'none'})`);
      }
      session.opened();
    });

    // Events without an `event:` line arrive as "message"; each carries one envelope.
    source.addEventListener('message', (message) => {
      session.alive();
      log.bytes(byteLength(message.data) + byteLength(message.lastEventId) + 12);
      const event = JSON.parse(message.data);
      if (log.event(event)) cursor.update({ next: event.id });
    });

    source.addEventListener('reset', (message) => {
      log.bytes(byteLength(message.data) + 20);
      cursor.update({ reset: true, next: JSON.parse(message.data).next }, log);
    });

    source.addEventListener('shutdown', () => {
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
  wireReconnectButton(stream.reconnect);
  wireSendButton('server-sent-events', log);
}

start(createLog());
