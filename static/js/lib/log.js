// The demo's log widget and its five counters. Every technique script writes here.
// Text goes in with textContent only, so event data can never become markup.

const MAX_ENTRIES = 400; // older lines are dropped so a long-open tab stays light
const MAX_SEEN = 5000; // how many event ids we remember for de-duplication

const encoder = new TextEncoder();

/** The size of a string in bytes once encoded as UTF-8. */
export function byteLength(text) {
  return encoder.encode(text).length;
}

/** What an event says: its data if that is a string, otherwise the data as JSON. */
export function eventText(event) {
  return typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
}

/** Connects to `<ol id="log">` and the counters on the page. */
export function createLog(doc = document) {
  const list = doc.getElementById('log');
  const counters = {
    requests: doc.getElementById('count-requests'),
    empty: doc.getElementById('count-empty'),
    events: doc.getElementById('count-events'),
    bytes: doc.getElementById('count-bytes'),
    latency: doc.getElementById('count-latency'),
  };
  const totals = { requests: 0, empty: 0, events: 0, bytes: 0 };
  let latencySum = 0;
  const seen = new Set();

  function show(name) {
    if (counters[name]) counters[name].textContent = String(totals[name]);
  }

  function write(kind, text, id) {
    if (!list) return null;
    const item = doc.createElement('li');
    item.className = 'log-entry';
    item.dataset.kind = kind;
    if (id !== undefined) item.dataset.id = id;
    item.textContent = text;
    // Only follow new lines if the reader has not scrolled up to read older ones.
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    list.append(item);
    while (list.children.length > MAX_ENTRIES) list.firstElementChild.remove();
    if (atBottom) list.scrollTop = list.scrollHeight;
    return item;
  }

  const log = {
    client: (text) => write('client', `[client] ${text}`),
    server: (text) => write('server', `[server] ${text}`),
    error: (text) => write('error', `[error] ${text}`),

    /** Counts one request sent to the server. */
    request() {
      totals.requests += 1;
      show('requests');
    },

    /** Adds bytes received to the total. */
    bytes(count) {
      totals.bytes += count;
      show('bytes');
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
      const sent = Date.parse(event.at);
      if (!Number.isNaN(sent)) {
        latencySum += Math.max(0, Date.now() - sent);
        if (counters.latency) {
          counters.latency.textContent = String(Math.round(latencySum / totals.events));
        }
      }
      write('event', `[event] ${eventText(event)}`, event.id);
      return true;
    },

    /** Logs a whole answer's events: "N events" or "No event", then each new one. */
    events(list) {
      const fresh = list.filter((e) => !seen.has(e.id));
      if (fresh.length === 0) {
        totals.empty += 1;
        show('empty');
        log.client('No event');
      } else {
        log.client(`${fresh.length} events`);
      }
      const shown = [];
      for (const e of fresh) if (log.event(e)) shown.push(e);
      return shown;
    },
  };
  return log;
}
