// The event log: the server rendered the recent events and a bookmark (data-next); the
// client library, pinned to polling, polls from that bookmark every 2 s, and this script puts
// the new events on top. The list is the page's only log: it shows each event once, with its
// time once.

import { startDemo } from '../lib/demo.js';
import { settings } from '../lib/channel.js';
import { latencySince } from '../lib/clock.js';
import { eventText } from '../lib/log.js';
import { runPinned } from '../lib/pinned.js';

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
  const latency = latencySince(event.at);
  if (latency !== null) {
    const span = document.createElement('span');
    span.className = 'latency';
    span.textContent = `+${latency} ms`;
    item.append(' ', span);
  }
  return item;
}

export function start(log) {
  const list = document.getElementById('event-log');
  // The rows on the page belong to the channel the server rendered; another channel starts
  // from its head, with none of them.
  const ownRows = list.dataset.channel === settings().channel;
  if (!ownRows) {
    list.replaceChildren();
  }
  // The rows already on the page count as seen, so an overlap never shows twice.
  for (const item of list.querySelectorAll('li[data-id]')) log.seen(item.dataset.id);

  const pause = document.getElementById('rows-pause');
  let paused = false;
  let pending = [];

  function add(rows) {
    // Events come oldest first; prepending each in turn leaves the newest on top.
    for (const item of rows) list.prepend(item);
    while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
    if (list.children.length) document.getElementById('event-log-empty')?.remove();
  }

  pause?.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
    log.timeline.pause(paused);
    if (!paused) {
      add(pending);
      pending = [];
    }
  });
  document.getElementById('rows-clear')?.addEventListener('click', () => {
    list.replaceChildren();
    pending = [];
  });

  log.onEvent = (event) => {
    if (paused) {
      pending.push(row(event));
      pause.textContent = `Resume (${pending.length} new)`;
    } else {
      add([row(event)]);
    }
    list.dataset.next = event.id;
  };
  runPinned('polling', log, document, { since: (ownRows && list.dataset.next) || 'now', pollIntervalMs: 2000 });
}

start(startDemo());
