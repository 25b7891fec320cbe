// One technique, run for a few seconds through the visitor's real network path with the
// client library's own transport (static/client/transports), and everything that happened
// on the way written down: when the answer's head came, when the hello or first answer came,
// each event with the server's time it was sent, the bytes read, and whether and when the
// connection ended before we ended it.
//
// The transport gets a context of our own instead of the library's connection, so nothing
// retries, falls back or backs off: each technique is seen once, as it is.

import { TRANSPORTS } from '../../client/reverse-ajax.js';

/** How often the forever iframe's document is looked at (it tells no head or byte count). */
const LOOK_MS = 50;

/** The browser's globals the transports use, with `fetch` and `WebSocket` watched. */
function watchedEnv(rec, since) {
  const g = globalThis;
  async function fetchWatched(url, init) {
    const sent = since();
    const res = await g.fetch(url, init);
    rec.head ??= since();
    if (!res.body) return res;
    const reader = res.body.getReader();
    const body = new ReadableStream({
      async pull(controller) {
        try {
          const { value, done } = await reader.read();
          if (done) {
            rec.held = Math.max(rec.held, since() - sent);
            return controller.close();
          }
          rec.bytes += value.byteLength;
          controller.enqueue(value);
        } catch (err) {
          controller.error(err);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }
  class SocketWatched extends g.WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('open', () => void (rec.head ??= since()));
      this.addEventListener('message', (m) => void (rec.bytes += typeof m.data === 'string' ? new Blob([m.data]).size : 0));
    }
  }
  return {
    window: g.window,
    document: g.document,
    fetch: fetchWatched,
    WebSocket: SocketWatched,
    now: () => Date.now(),
    mono: () => g.performance.now(),
    setTimeout: (fn, ms) => g.setTimeout(fn, ms),
    clearTimeout: (id) => g.clearTimeout(id),
    setInterval: (fn, ms) => g.setInterval(fn, ms),
    clearInterval: (id) => g.clearInterval(id),
  };
}

/** Script requests (JSONP, script long polls) of `channel`: head, bytes and hold from Resource Timing. */
function watchScripts(rec, channel, t0) {
  if (typeof PerformanceObserver !== 'function') return () => {};
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.initiatorType !== 'script' || !entry.name.includes(`/${channel}/`)) continue;
      rec.head ??= Math.max(0, entry.responseStart - t0);
      rec.bytes += entry.encodedBodySize;
      rec.held = Math.max(rec.held, entry.responseEnd - entry.startTime);
    }
  });
  observer.observe({ type: 'resource', buffered: false });
  return () => observer.disconnect();
}

/** The forever iframe: its head is the document committing, its bytes about its markup's length. */
function watchIframe(rec, channel, since) {
  const timer = setInterval(() => {
    for (const frame of document.querySelectorAll('iframe')) {
      if (!frame.src.includes(`/${channel}/`)) continue;
      try {
        const doc = frame.contentDocument;
        if (!doc || !doc.URL.includes('/iframe')) continue;
        rec.head ??= since();
        rec.bytes = Math.max(rec.bytes, new XMLSerializer().serializeToString(doc.documentElement).length);
      } catch {
        // Another origin's document: nothing to read.
      }
    }
  }, LOOK_MS);
  return () => clearInterval(timer);
}

/** An open session whose events stop this long before the end was cut unseen (the feed never pauses). */
const SILENCE_MS = 2000;

/**
 * Runs transport `name` on `channel` for `windowMs` and resolves with what was seen. A
 * session that opened and then failed counts as cut, and a new one starts from the cursor:
 * a connection may have been reused, and cut sooner than a fresh one would be, so the
 * longest survival is the one that tells the limit.
 * @param {string} name
 * @param {{channel: string, base: string, windowMs: number, pollMs: number, capMs: number}} how
 */
export function probe(name, { channel, base, windowMs, pollMs, capMs }) {
  const transport = TRANSPORTS[name];
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  /** Times are ms from the start; `events` carry the server's send time and our arrival. */
  const rec = { name, supported: true, head: null, hello: null, serverHello: null, events: [], bytes: 0, held: 0, requests: 0, failed: null, cuts: [], openFor: null, windowMs };
  const env = watchedEnv(rec, since);
  if (transport.supported && !transport.supported(env, base)) {
    rec.supported = false;
    return Promise.resolve(rec);
  }
  const seen = new Set();
  const options = { openTimeoutMs: windowMs, longPollCapMs: capMs, pollIntervalMs: pollMs, recheckMs: 0, recheckMaxMs: 0, rememberMs: 0, shutdownDelayMs: 0 };
  let cursor = null;
  let over = false;
  let current = null;
  const take = (s, event) => {
    if (!event || typeof event.id !== 'string' || seen.has(event.id)) return;
    seen.add(event.id);
    cursor = event.id;
    s.last = since();
    const sent = Number(event.data?.sent_ms);
    rec.events.push({ at: s.last, wall: Date.now(), sent: Number.isFinite(sent) ? sent : null });
  };

  /** One session of the transport; a cut one is followed by the next. */
  function begin() {
    const s = { started: since(), opened: false, last: null, close: null };
    current = s;
    const mine = () => !over && s === current;
    const opened = () => {
      if (s.opened) return;
      s.opened = true;
      s.last = since();
      rec.hello ??= s.last;
      rec.openFor ??= windowMs - s.started;
    };
    const ctx = {
      env,
      options,
      url(kind, sinceName = 'since') {
        const ch = encodeURIComponent(channel);
        const path = kind === 'events' ? `/api/channels/${ch}/events` : `/push/${ch}/${kind}`;
        rec.requests += 1;
        return `${base}${path}${cursor ? `?${sinceName}=${encodeURIComponent(cursor)}` : ''}`;
      },
      headers: (extra = {}) => extra,
      responded: () => void (rec.head ??= since()),
      alive() {},
      expect() {},
      watch() {},
      trace() {},
      hello(info) {
        if (!mine()) return;
        opened();
        if (Number.isFinite(info?.time)) rec.serverHello ??= info.time;
      },
      frame(frame) {
        if (!mine() || !frame || typeof frame !== 'object') return;
        if (frame.type === 'hello') return ctx.hello(frame);
        if (frame.type === 'heartbeat') return;
        if (frame.type === 'end') return ctx.end(frame.reason);
        if (frame.type === 'reset') cursor = frame.next ?? cursor;
        else take(s, frame.type === 'event' ? frame.event : frame);
        opened();
      },
      batch(answer) {
        if (!mine() || !answer || typeof answer !== 'object') return;
        opened();
        for (const event of answer.events ?? []) take(s, event);
        if (typeof answer.next === 'string') cursor = answer.next;
      },
      // The server ended it on purpose: not a cut; come back from the cursor.
      end: () => mine() && stop(s, null),
      fail: (err) => mine() && stop(s, err?.message ?? String(err)),
    };
    try {
      s.close = transport.open(ctx);
    } catch (err) {
      ctx.fail(err);
    }
    // A transport that failed while it opened: its close runs now.
    if (current !== s) shut(s);
  }

  function shut(s) {
    try {
      s.close?.();
    } catch {
      // A transport that cannot close cleanly is gone anyway.
    }
  }

  /** Ends session `s`: a cut when it had opened and `message` says what broke. */
  function stop(s, message) {
    const at = since();
    current = null;
    shut(s);
    if (!s.opened) {
      rec.failed = { message: message ?? 'ended before it opened', at };
      return;
    }
    if (message !== null) rec.cuts.push({ at, survived: at - s.started, message, silent: false });
    begin();
  }

  const stops = [];
  if (name === 'script-long-polling' || name === 'jsonp-polling') stops.push(watchScripts(rec, channel, t0));
  if (name === 'forever-iframe') stops.push(watchIframe(rec, channel, since));
  if (transport.passive) {
    // The app's own requests carry the events: one session, our loop.
    stops.push(piggyback(rec, env, { channel, base, pollMs }, since, () => over, take));
  } else {
    begin();
  }

  return new Promise((resolve) => {
    setTimeout(() => {
      const s = current;
      if (s?.opened && windowMs - s.last > SILENCE_MS) {
        rec.cuts.push({ at: s.last, survived: s.last - s.started, message: 'no event any more, and no error', silent: true });
      }
      over = true;
      if (s) shut(s);
      for (const stop of stops) stop?.();
      resolve(rec);
    }, windowMs);
  });
}

/**
 * Piggyback has no request of its own: here the app's own request is the registration form
 * of the piggyback page, posted empty every `pollMs`; its answer carries the events. A
 * failure after the first answer is a cut; the posts go on.
 */
function piggyback(rec, env, { channel, base, pollMs }, since, over, take) {
  const s = { started: 0, opened: false, last: null, close: null };
  let timer;
  let cursor = null;
  const ask = async () => {
    if (over()) return;
    const form = new URLSearchParams();
    if (cursor) form.set('since', cursor);
    const sent = since();
    try {
      rec.requests += 1;
      const url = `${base}/piggyback?channel=${encodeURIComponent(channel)}`;
      const res = await env.fetch(url, { method: 'POST', body: form, cache: 'no-store' });
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      const answer = await res.json();
      if (over()) return;
      if (!s.opened) {
        s.opened = true;
        s.last = rec.hello = since();
      }
      for (const event of answer.events ?? []) take(s, event);
      if (typeof answer.next === 'string') cursor = answer.next;
    } catch (err) {
      if (over()) return;
      if (!s.opened) {
        rec.failed = { message: err.message, at: since() };
        return;
      }
      rec.cuts.push({ at: since(), survived: since() - sent, message: err.message, silent: false });
    }
    timer = setTimeout(ask, pollMs);
  };
  ask();
  return () => clearTimeout(timer);
}
