// HTTP polling: ask the server for news with fetch, wait, ask again.

import { startDemo } from '../lib/demo.js';
import { eventsUrl } from '../lib/channel.js';
import { createCursor, fetchBatch } from '../lib/cursor.js';
import { intervalReader, runPolling } from '../lib/poller.js';

export function start(log) {
  const cursor = createCursor();

  async function poll() {
    log.client('checking for events...');
    // An absolute URL, `/api/channels/<this tab's channel>/events`, whatever the page's URL.
    // The server answers at once, usually with no events.
    await fetchBatch(eventsUrl(), cursor, log);
  }

  runPolling({ poll, delay: intervalReader(), log });
}

start(startDemo());
