// HTTP polling: ask the server for news with fetch, wait, ask again.

import { createLog } from '../lib/log.js';
import { createCursor, fetchBatch } from '../lib/cursor.js';
import { intervalReader, runPolling } from '../lib/poller.js';
import { wireSendButton } from '../lib/send.js';

export function start(log) {
  const cursor = createCursor();

  async function poll() {
    log.client('checking for events...');
    // A relative URL: the page lives at /polling, so this is /api/channels/demo/events.
    // The server answers at once, usually with no events.
    await fetchBatch('api/channels/demo/events', cursor, log);
  }

  runPolling({ poll, delay: intervalReader(), log });
  wireSendButton('polling', log);
}

start(createLog());
