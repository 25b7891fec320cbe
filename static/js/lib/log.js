// The demo's log widget, its counters, the live timeline and the "Raw answer" panel. Every
// technique script writes here. Text goes in with textContent only, so event data can never
// become markup.
//
// Counters: requests (or connections opened), answers with no event, frames or parts
// received (on streams), events, bytes on the wire (see wire.js for what is measured and what
// is estimated), and the 50th and 95th percentile of the events' latency, from the server's
// timestamp to their arrival here, corrected for the clocks' difference (see clock.js).

import { latencySince, syncClock, toLocalTime } from './clock.js';
import { createTimeline, formatBytes } from './timeline.js';
import { byteLength } from './wire.js';

export { byteLength };

const MAX_ENTRIES = 400; // older lines are dropped so a long-open tab stays light
const MAX_SEEN = 5000; // how many event ids we remember for de-duplication
const MAX_LATENCIES = 1000; // the percentiles cover the last this many events

/** "1 event", "2 events", "No event". */
export function plural(count, one, many = `${one}s`) {
  if (count === 0) return `No ${one}`;
  return `${count} ${count === 1 ? one : many}`;
}

/** A chat message sent from the WebSocket page: `{"chat":"…","from":"…"}` as text. */
export function chatOf(event) {
  if (typeof event.data !== 'string' || !event.data.startsWith('{"chat"')) return null;
  try {
    const value = JSON.parse(event.data);
    if (typeof value.chat === 'string') {
      return { text: value.chat, from: typeof value.from === 'string' ? value.from : 'someone' };
    }
  } catch {
    // Not a chat message after all: show it as it is.
  }
  return null;
}

/** What an event says: its data if that is a string, otherwise the data as JSON. */
export function eventText(event) {
  const chat = chatOf(event);
  if (chat) return `${chat.from} says: ${chat.text}`;
  return typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
}

/** The value at fraction `p` of a sorted array (nearest rank). */
function percentile(sorted, p) {
  if (!sorted.length) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

/** Connects to `<ol id="log">`, the counters, the timeline and the raw panel on the page. */
export function createLog(doc = document) {
  const list = doc.getElementById('log');
  const counter = (name) => doc.getElementById(`count-${name}`);
  const counters = {
    requests: counter('requests'),
    empty: counter('empty'),
    frames: counter('frames'),
    events: counter('events'),
    bytes: counter('bytes'),
    p50: counter('p50'),
    p95: counter('p95'),
  };
  const totals = { requests: 0, empty: 0, frames: 0, events: 0, bytes: 0 };
  const latencies = []; // the most recent, in arrival order
  const seen = new Set();
  const timeline = createTimeline(doc);
  const rawText = doc.getElementById('wire-raw');
  const rawCaption = doc.getElementById('wire-raw-caption');
  const pauseButton = doc.getElementById('log-pause');
  let paused = false;
  let pending = []; // lines written while paused

  syncClock();

  function show(name) {
    if (counters[name]) counters[name].textContent = String(totals[name]);
  }

  function showLatency() {
    const sorted = [...latencies].sort((a, b) => a - b);
    if (counters.p50) counters.p50.textContent = String(percentile(sorted, 0.5));
    if (counters.p95) counters.p95.textContent = String(percentile(sorted, 0.95));
  }

  function append(item) {
    // Only follow new lines if the reader has not scrolled up to read older ones.
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    list.append(item);
    while (list.children.length > MAX_ENTRIES) list.firstElementChild.remove();
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function write(kind, text, id, extra) {
    if (!list) return null;
    const item = doc.createElement('li');
    item.className = 'log-entry';
    item.dataset.kind = kind;
    if (id !== undefined) item.dataset.id = id;
    item.textContent = text;
    if (extra) {
      const span = doc.createElement('span');
      span.className = 'latency';
      span.textContent = extra;
      item.append(span);
    }
    if (paused) {
      pending.push(item);
      if (pending.length > MAX_ENTRIES) pending.shift();
      if (pauseButton) pauseButton.textContent = `Resume (${pending.length} new)`;
    } else {
      append(item);
    }
    return item;
  }

  pauseButton?.addEventListener('click', () => {
    paused = !paused;
    pauseButton.setAttribute('aria-pressed', String(paused));
    timeline.pause(paused);
    if (paused) {
      pauseButton.textContent = 'Resume';
    } else {
      pauseButton.textContent = 'Pause';
      for (const item of pending) append(item);
      pending = [];
    }
  });
  doc.getElementById('log-clear')?.addEventListener('click', () => {
    list?.replaceChildren();
    pending = [];
    if (paused && pauseButton) pauseButton.textContent = 'Resume';
  });

  const log = {
    client: (text) => write('client', `[client] ${text}`),
    server: (text) => write('server', `[server] ${text}`),
    error: (text) => write('error', `[error] ${text}`),

    timeline,

    /**
     * Counts one request (or connection) and draws it; returns its timeline mark, which the
     * page tells about the answer. `line` is the request line, such as `GET /api/… HTTP/1.1`.
     */
    request(line = 'request', options = {}) {
      totals.requests += 1;
      show('requests');
      return timeline.request({ line, ...options });
    },

    /** Adds bytes received to the total. */
    bytes(count) {
      if (!Number.isFinite(count)) return;
      totals.bytes += Math.round(count);
      show('bytes');
    },

    /** Counts one frame, part or message received on a stream. */
    frame() {
      totals.frames += 1;
      show('frames');
    },

    /** Shows `text` in the Raw answer panel, as it came on the wire; `caption` says what it is. */
    raw(text, caption = '') {
      if (rawText) rawText.textContent = text;
      if (rawCaption) rawCaption.textContent = caption;
    },

    /** True if this event id was already shown (and remembers it if not). */
    seen(id) {
      if (seen.has(id)) return true;
      seen.add(id);
      if (seen.size > MAX_SEEN) seen.delete(seen.values().next().value);
      return false;
    },

    /** Shows one event unless it is a duplicate; returns whether it was new. */
    event(event) {
      if (log.seen(event.id)) return false;
      totals.events += 1;
      show('events');
      const latency = latencySince(event.at);
      if (latency !== null) {
        latencies.push(latency);
        if (latencies.length > MAX_LATENCIES) latencies.shift();
        showLatency();
      }
      const text = eventText(event);
      const at = toLocalTime(event.at);
      if (at !== null) timeline.event({ at, text, id: event.id });
      write('event', `[event] ${text}`, event.id, latency === null ? '' : ` +${latency} ms`);
      log.onEvent?.(event);
      return true;
    },

    /**
     * Counts an answer that carried `events` (the client then delivers the new ones to
     * `event`): logs "2 events" or "No event", and counts it as empty when none is new.
     * Returns how many are new.
     */
    answered(events) {
      const fresh = events.filter((e) => !seen.has(e.id)).length;
      if (fresh === 0) {
        totals.empty += 1;
        show('empty');
      }
      log.client(plural(fresh, 'event'));
      return fresh;
    },

    /** Called with every new event after it is logged (the WebSocket page's chat uses it). */
    onEvent: null,
  };
  return log;
}

/** `GET /path HTTP/1.1`, for a timeline mark's tooltip (the path without the origin). */
export function requestLine(url, method = 'GET') {
  const u = new URL(url, location.href);
  return `${method} ${u.pathname}${u.search} HTTP/1.1`;
}

export { formatBytes };
