// XHR long polling: ask the server for news with fetch; it holds the request until there
// is some (or until its cap), and we ask again the moment the answer is in.

import { createLog } from '../lib/log.js';
import { createCursor, fetchBatch } from '../lib/cursor.js';
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
    // While it waits, the server writes a space now and then to notice a departed client;
    // JSON.parse skips them, and they count as bytes received.
    await fetchBatch('push/demo/long-poll', cursor, log, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]),
    });
  }

  const polling = runLongPolling({ poll, log });
  wireReconnectButton(() => {
    log.client(`abandoning the request in flight; resuming from ${cursor.since ?? 'now'}`);
    polling.reconnect();
  });
  wireSendButton('long-polling', log);
}

start(createLog());
