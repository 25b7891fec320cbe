// HTTP polling: ask the server for news with fetch, wait, ask again.

import { createLog, byteLength } from '../lib/log.js';
import { createCursor } from '../lib/cursor.js';
import { intervalReader, runPolling } from '../lib/poller.js';
import { wireSendButton } from '../lib/send.js';

export function start(log) {
  const cursor = createCursor();

  async function poll() {
    log.client('checking for events...');
    log.request();
    // A relative URL: the page lives at /polling, so this is /api/channels/demo/events.
    const res = await fetch(cursor.url('api/channels/demo/events'), { cache: 'no-store' });
    const text = await res.text();
    log.bytes(byteLength(text));
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const answer = JSON.parse(text);
    cursor.update(answer, log);
    log.events(answer.events);
  }

  runPolling({ poll, delay: intervalReader(), log });
  wireSendButton('polling', log);
}

start(createLog());
