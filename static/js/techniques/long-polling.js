// XHR long polling: ask the server for news with fetch; it holds the request until there
// is some (or until its cap), and we ask again the moment the answer is in.

import { createLog, byteLength } from '../lib/log.js';
import { createCursor } from '../lib/cursor.js';
import { runLongPolling } from '../lib/long-poll.js';
import { wireReconnectButton } from '../lib/stream.js';
import { wireSendButton } from '../lib/send.js';

// The server answers within its cap (25 s by default) and keeps the line busy meanwhile;
// a request still open after this long is given up and retried.
const TIMEOUT_MS = 60000;

export function start(log) {
  const cursor = createCursor();

  async function poll(signal) {
    log.client('waiting for events...');
    log.request();
    const res = await fetch(cursor.url('push/demo/long-poll'), {
      cache: 'no-store',
      signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]),
    });
    // While it waits, the server writes a space now and then to notice a departed client;
    // JSON.parse skips them, and they count as bytes received.
    const text = await res.text();
    log.bytes(byteLength(text));
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const answer = JSON.parse(text);
    cursor.update(answer, log);
    log.events(answer.events);
  }

  const polling = runLongPolling({ poll, log });
  wireReconnectButton(() => {
    log.client(`abandoning the request in flight; resuming from ${cursor.since ?? 'now'}`);
    polling.reconnect();
  });
  wireSendButton('long-polling', log);
}

start(createLog());
