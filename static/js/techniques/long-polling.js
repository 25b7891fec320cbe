// XHR long polling: ask the server for news with fetch; it holds the request until there
// is some (or until its cap), and we ask again the moment the answer is in.

import { startDemo } from '../lib/demo.js';
import { pushUrl } from '../lib/channel.js';
import { createCursor, fetchBatch } from '../lib/cursor.js';
import { runLongPolling } from '../lib/long-poll.js';
import { wireReconnectButton } from '../lib/stream.js';

// The server answers within its cap (25 s by default) and keeps the line busy meanwhile;
// a request still open after this long is given up and retried.
const TIMEOUT_MS = 60000;

export function start(log) {
  const cursor = createCursor();

  async function poll(signal) {
    log.client('waiting for events...');
    // While it waits, the server writes a space now and then to notice a departed client;
    // JSON.parse skips them, and they count as bytes received.
    await fetchBatch(pushUrl('long-poll'), cursor, log, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]),
    }, { held: true });
  }

  const polling = runLongPolling({ poll, log });
  wireReconnectButton(() => {
    log.client(`abandoning the request in flight; resuming from ${cursor.since ?? 'now'}`);
    polling.reconnect();
  });
}

start(startDemo());
