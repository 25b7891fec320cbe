// The event log: the server rendered the recent events and a bookmark (data-next);
// this script polls from that bookmark every 2 s and puts new events on top.

import { createLog, eventText } from '../lib/log.js';
import { createCursor, fetchBatch } from '../lib/cursor.js';
import { runPolling } from '../lib/poller.js';
import { wireSendButton } from '../lib/send.js';

const MAX_ROWS = 200; // older rows fall off the bottom

/** One row, built the same way as the server's template builds it. */
function row(event) {
  const item = document.createElement('li');
  item.dataset.id = event.id;
  item.className = 'fresh';
  const time = document.createElement('time');
  time.dateTime = event.at;
  time.textContent = event.at.slice(11, 19); // HH:MM:SS in UTC, like the server's rows
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = eventText(event);
  item.append(time, ' ', text);
  return item;
}

export function start(log) {
  const list = document.getElementById('event-log');
  const cursor = createCursor(list.dataset.next);
  // The rows already on the page count as seen, so an overlap never shows twice.
  for (const item of list.querySelectorAll('li[data-id]')) log.seen(item.dataset.id);

  async function poll() {
    log.client('checking for events...');
    const events = await fetchBatch('api/channels/demo/events', cursor, log);
    // Events come oldest first; prepending each in turn leaves the newest on top.
    for (const event of events) list.prepend(row(event));
    while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
    if (list.children.length) document.getElementById('event-log-empty')?.remove();
    list.dataset.next = cursor.since ?? '';
  }

  runPolling({ poll, delay: () => 2000, log });
  wireSendButton('event-log', log);
}

start(createLog());
