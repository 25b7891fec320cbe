// reverse-ajax: one client for every Reverse Ajax technique this server speaks.
//
//   import { connect } from '/static/client/reverse-ajax.js';
//   const conn = connect('orders-42', { onEvent(event) { … } });
//
// It starts with the best transport the browser supports, falls over to the next when one
// cannot open (or opens but stays silent, the sign of a buffering proxy), probes the better
// ones again in the background, resumes every reconnection from one cursor per channel, and
// reports every change of state with its cause. See reverse-ajax.d.ts for the API.

import { createBackoff } from './backoff.js';
import { createCursorStore, safeStorage } from './cursor.js';
import { failure, statusFailure } from './http.js';
import { createLiveness } from './liveness.js';
import { DEFAULT_TRANSPORTS, candidates, decide, remember, remembered } from './negotiate.js';
import foreverIframe from './transports/forever-iframe.js';
import jsonpPolling from './transports/jsonp-polling.js';
import longPolling from './transports/long-polling.js';
import multipartStreaming from './transports/multipart-streaming.js';
import piggyback from './transports/piggyback.js';
import polling from './transports/polling.js';
import scriptLongPolling from './transports/script-long-polling.js';
import serverSentEvents from './transports/server-sent-events.js';
import websocket from './transports/websocket.js';

export { ALL, DEFAULT_TRANSPORTS } from './negotiate.js';

/** Every transport by name. */
export const TRANSPORTS = Object.fromEntries(
  [websocket, serverSentEvents, multipartStreaming, foreverIframe, longPolling, scriptLongPolling, polling, jsonpPolling, piggyback].map(
    (t) => [t.name, t],
  ),
);

const DEFAULTS = {
  openTimeoutMs: 5000,
  longPollCapMs: 25000,
  pollIntervalMs: 2000,
  recheckMs: 30000,
  recheckMaxMs: 600000,
  rememberMs: 1800000,
  shutdownDelayMs: 2000,
};

/** A stream that never said how often it beats: assume the server's default (15 s). */
const DEFAULT_HEARTBEAT_MS = 15000;
/** A session that ends sooner than this after it opened is treated as failing, not ending. */
const SHORT_LIFE_MS = 1000;

/** The browser's globals, looked up once per connection. */
function browserEnv() {
  const g = globalThis;
  return {
    window: g.window,
    document: g.document,
    fetch: g.fetch?.bind(g),
    WebSocket: g.WebSocket,
    now: () => Date.now(),
    mono: () => g.performance.now(),
    setTimeout: g.setTimeout.bind(g),
    clearTimeout: g.clearTimeout.bind(g),
    setInterval: g.setInterval.bind(g),
    clearInterval: g.clearInterval.bind(g),
    random: Math.random,
    session: safeStorage(() => g.sessionStorage),
    local: safeStorage(() => g.localStorage),
  };
}

/** A random key for a publish, the same on each of its retries. */
function randomKey(env) {
  return env.window?.crypto?.randomUUID?.() ?? `${env.now().toString(36)}-${env.random().toString(36).slice(2)}`;
}

/**
 * Connects to `channel` and keeps the connection up until `close()`.
 * @param {string} channel
 * @param {import('./reverse-ajax.js').Options} [options]
 * @returns {import('./reverse-ajax.js').Connection}
 */
export function connect(channel, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const env = { ...browserEnv(), ...options.env };
  const registry = { ...TRANSPORTS, ...options.env?.transports };
  const base = (opts.url ?? env.window?.location?.origin ?? '').replace(/\/+$/, '');
  const cursor = createCursorStore(env.session, `ra-cursor:${base}|${channel}`, opts.since);
  const { list, skipped } = candidates(opts.transports ?? DEFAULT_TRANSPORTS, registry, env, base);
  const backoff = createBackoff({ random: env.random });
  const worked = new Set();
  const listeners = [];
  const best = remembered(env.local, base, env.now(), opts.rememberMs);
  let index = Math.max(0, list.indexOf(best));
  // `status` starts empty so that the first report, whatever it is, is a change.
  let state = { status: '', transport: list[index] ?? null, attempt: 0, fallbacks: 0, cause: null };
  let current = null; // the session that carries the events
  let probe = null; // a better transport being tried in the background
  let retryTimer;
  let recheckTimer;
  let recheckDelay = opts.recheckMs;
  let token;
  let authRetried = false;
  let failsInRow = 0;
  let closed = false;
  let offline = false;
  let generation = 0; // bumped on every (re)connect, so a late token cannot open a stale session

  const report = (changes) => {
    state = { ...state, ...changes };
    opts.onState?.({ ...state });
  };

  // Everything that arrives goes through here, from every session and `absorb`: a reset
  // reaches onReset before any later event, and an event reaches onEvent once.
  const deliver = (event) => cursor.take(event) && opts.onEvent?.(event);
  const reset = (reason, next) => {
    cursor.move(next);
    opts.onReset?.({ reason: reason ?? 'unknown', next });
  };
  const takeBatch = (answer) => {
    if (!answer || typeof answer !== 'object') return;
    if (answer.reset) reset(answer.reset_reason, answer.next);
    else if (!cursor.id) cursor.move(answer.next);
    for (const event of answer.events ?? []) deliver(event);
  };

  const live = createLiveness(env, {
    dead(silentMs) {
      const s = current;
      if (!s) return;
      const seconds = Math.round(silentMs / 1000);
      let message = `silent for ${seconds} s`;
      if (!s.opened) message = s.responded ? `answered but sent no hello within ${seconds} s` : `no answer within ${seconds} s`;
      fail(s, failure(message, { silent: !s.opened }));
    },
    woke: () => reconnectNow('the clock jumped: the machine slept or the tab was frozen'),
  });

  /** Starts one session of transport `name`; `asProbe` for a background re-check of `list[candidate]`. */
  function start(name, asProbe, candidate) {
    const s = { name, candidate, opened: false, responded: false, over: false, started: env.now() };
    const mine = () => !s.over && (s === current || s === probe);
    /** @type {import('./reverse-ajax.js').Context} */
    const ctx = {
      env,
      options: opts,
      url(kind, sinceName = 'since') {
        const path = kind === 'events' ? `/api/channels/${encodeURIComponent(channel)}/events` : `/push/${encodeURIComponent(channel)}/${kind}`;
        const query = new URLSearchParams();
        if (cursor.id) query.set(sinceName, cursor.id);
        if (token) query.set('token', token);
        const text = query.toString();
        return `${base}${path}${text ? `?${text}` : ''}`;
      },
      headers: (extra = {}) => (token ? { ...extra, Authorization: `Bearer ${token}` } : extra),
      trace: (kind, data) => mine() && opts.onTrace?.({ transport: name, kind, data }),
      responded: () => void (s.responded = true),
      alive: () => mine() && s.opened && s === current && live.beat(),
      expect: (ms) => mine() && s.opened && s === current && live.watch(ms, s.progress),
      watch: (progress) => void (s.progress = progress),
      hello(info) {
        if (!mine()) return;
        const limit = 2 * (Number(info?.heartbeat_ms) || DEFAULT_HEARTBEAT_MS);
        if (!s.opened) return opened(s, limit);
        if (s === current) live.watch(limit, s.progress);
      },
      frame(frame) {
        if (!mine() || !frame || typeof frame !== 'object') return;
        ctx.trace('frame', frame);
        if (frame.type === 'hello') return ctx.hello(frame);
        if (frame.type === 'heartbeat') return ctx.alive();
        if (frame.type === 'end') return ctx.end(frame.reason, frame.retry_ms);
        if (frame.type === 'reset') reset(frame.reason, frame.next);
        else deliver(frame.type === 'event' ? frame.event : frame);
        // A server that sends no hello still opens on its first frame.
        if (!s.opened) opened(s, 2 * DEFAULT_HEARTBEAT_MS);
        ctx.alive();
      },
      batch(answer) {
        if (!mine()) return;
        ctx.trace('answer', answer);
        takeBatch(answer);
        if (!s.opened) opened(s, 0);
        ctx.alive();
      },
      end: (reason, hintMs) => mine() && end(s, reason ?? 'closed', hintMs),
      fail: (err) => mine() && fail(s, err),
    };
    if (asProbe) probe = s;
    else current = s;
    try {
      s.close = registry[name].open(ctx);
    } catch (err) {
      ctx.fail(failure(err.message)); // e.g. a URL the browser refuses to open
    }
    // A transport may fail while it opens; its close then runs at once.
    if (s.over) s.close?.();
    return s;
  }

  function drop(s) {
    if (!s || s.over) return;
    s.over = true;
    env.clearTimeout(s.timer);
    try {
      s.close?.();
    } catch {
      // A transport that cannot close cleanly is gone anyway.
    }
  }

  function dropProbe() {
    drop(probe);
    probe = null;
  }

  /** Opens `list[index]` now (after fetching a token), as the current session. */
  async function open() {
    env.clearTimeout(retryTimer);
    drop(current);
    current = null;
    if (closed || offline) return;
    const mine = ++generation;
    const name = list[index];
    if (!name) return report({ status: 'closed', transport: null, cause: 'no transport is allowed and supported here' });
    if (state.status !== 'connecting' || state.transport !== name) report({ status: 'connecting', transport: name });
    try {
      token = (await opts.token?.()) ?? undefined;
    } catch (err) {
      if (mine === generation) retry(failure(`the token could not be fetched: ${err.message}`));
      return;
    }
    if (mine !== generation || closed || offline) return;
    if (registry[name].passive) live.pause();
    else live.watch(opts.openTimeoutMs);
    start(name, false);
  }

  function opened(s, limitMs) {
    s.opened = true;
    if (s === probe) {
      // The better transport works: it carries on from the same cursor, so nothing is lost
      // and duplicates are dropped; the old one goes.
      env.clearTimeout(s.timer);
      drop(current);
      current = s;
      probe = null;
      index = list.indexOf(s.name);
      recheckDelay = opts.recheckMs;
    }
    worked.add(s.name);
    failsInRow = 0;
    authRetried = false;
    backoff.reset();
    remember(env.local, base, s.name, env.now());
    if (limitMs) live.watch(limitMs, s.progress);
    else live.pause();
    report({ status: 'open', transport: s.name, attempt: 0, cause: null });
    // A connection that keeps reopening must not keep putting the re-check off.
    if (!recheckTimer || index === 0) scheduleRecheck();
  }

  /** The server ended the session on purpose: come back from the cursor. */
  function end(s, reason, hintMs) {
    if (s === probe) return probeFailed(failure(`ended (${reason})`));
    const brief = env.now() - s.started < SHORT_LIFE_MS;
    drop(s);
    if (reason === 'shutdown') return retry(failure('the server is shutting down'), hintMs ?? opts.shutdownDelayMs);
    if (!s.opened) return fail(s, failure(`ended (${reason}) before it opened`));
    if (brief) return retry(failure(`ended (${reason}) at once`));
    report({ status: 'connecting', cause: `ended (${reason})` });
    open();
  }

  function fail(s, err) {
    if (s === probe) return probeFailed(err);
    if (s.over && s !== current) return;
    drop(s);
    if (err.status === 401 && !authRetried) {
      // A token that expired: fetch a new one and try again at once, once.
      authRetried = true;
      report({ status: 'connecting', cause: `${s.name}: ${err.message}` });
      return open();
    }
    const action = decide({ err, opened: s.opened, worked: worked.has(s.name), failsInRow, last: index >= list.length - 1 });
    failsInRow += 1;
    if (action === 'retry') return retry(err);
    failsInRow = 0;
    if (action === 'restart') {
      index = 0;
      return retry(failure(`every transport failed; the last, ${s.name}: ${err.message}`));
    }
    index += 1;
    report({ status: 'connecting', transport: list[index], fallbacks: state.fallbacks + 1, cause: `${s.name}: ${err.message}` });
    open();
  }

  /** Tries `list[index]` again after a backoff pause (or the server's own delay). */
  function retry(err, hintMs = err.retryAfterMs) {
    drop(current);
    current = null;
    dropProbe();
    live.pause();
    const wait = backoff.next(hintMs);
    report({ status: 'connecting', transport: list[index], attempt: state.attempt + 1, cause: `${err.message}; next try in ${(wait / 1000).toFixed(1)} s` });
    env.clearTimeout(retryTimer);
    retryTimer = env.setTimeout(open, wait);
  }

  /** Drops everything and connects again at once, from the cursor (no attempt counted). */
  function reconnectNow(cause) {
    if (closed || offline) return;
    dropProbe();
    report({ status: 'connecting', cause });
    open();
  }

  // Re-check: while a worse transport carries the events, the better ones are tried again in
  // the background, from 30 s after it opened and backing off up to 10 min.
  function scheduleRecheck() {
    env.clearTimeout(recheckTimer);
    recheckTimer = index > 0 && !closed && env.setTimeout(() => runProbe(0), recheckDelay);
  }

  async function runProbe(candidate) {
    recheckTimer = 0;
    if (closed || candidate >= index) return;
    // Not now (offline, reconnecting, a probe running): ask again after the same delay.
    if (offline || probe || !current?.opened) return scheduleRecheck();
    const mine = generation;
    try {
      token = (await opts.token?.()) ?? undefined;
    } catch {
      return probeFailed(failure('no token'));
    }
    if (mine !== generation || closed || probe) return;
    const s = start(list[candidate], true, candidate);
    if (s === probe) s.timer = env.setTimeout(() => probeFailed(failure('no hello')), opts.openTimeoutMs);
  }

  function probeFailed() {
    const next = (probe?.candidate ?? index) + 1;
    dropProbe();
    if (next < index) return runProbe(next);
    recheckDelay = Math.min(recheckDelay * 2, opts.recheckMaxMs);
    scheduleRecheck();
  }

  // The browser's own news about the network and the page.
  const on = (target, type, fn) => {
    if (!target?.addEventListener) return;
    target.addEventListener(type, fn);
    listeners.push(() => target.removeEventListener(type, fn));
  };
  on(env.window, 'offline', () => {
    if (closed) return;
    offline = true;
    env.clearTimeout(retryTimer);
    drop(current);
    current = null;
    dropProbe();
    live.pause();
    report({ status: 'offline', cause: 'the browser is offline' });
  });
  on(env.window, 'online', () => {
    offline = false;
    reconnectNow('back online');
  });
  on(env.window, 'pageshow', (event) => event.persisted && reconnectNow('the page was restored'));
  on(env.document, 'resume', () => reconnectNow('the page was resumed'));

  const skippedText = Object.entries(skipped).map(([name, why]) => `${name}: ${why}`).join('; ');
  if (skippedText) report({ cause: skippedText });
  if (env.window?.navigator?.onLine === false) {
    offline = true;
    report({ status: 'offline', cause: 'the browser is offline' });
  } else {
    open();
  }

  return {
    get transport() {
      return current?.opened ? current.name : null;
    },
    get cursor() {
      return cursor.id;
    },
    get state() {
      return { ...state };
    },
    absorb(answer) {
      if (closed) return;
      takeBatch(answer);
      // With piggyback as the transport, the first answer absorbed opens the connection.
      if (current?.name === 'piggyback' && !current.opened) opened(current, 0);
    },
    async publish(data) {
      const key = randomKey(env);
      const url = `${base}/api/channels/${encodeURIComponent(channel)}/events`;
      const pause = createBackoff({ random: env.random });
      for (let attempt = 1; ; attempt++) {
        let res;
        let err;
        try {
          const tokenNow = token ?? (await opts.token?.());
          const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': key };
          if (tokenNow) headers.Authorization = `Bearer ${tokenNow}`;
          res = await env.fetch(url, { method: 'POST', headers, body: JSON.stringify(data) });
          if (res.ok) return await res.json();
          const body = await res.json().catch(() => ({}));
          err = Object.assign(statusFailure(res, env.now()), body.error ? { message: body.error } : {});
          if (res.status === 401 && attempt === 1) token = undefined;
          else if (![429, 503, 504].includes(res.status) && res.status < 500) throw err;
        } catch (thrown) {
          if (thrown === err) throw err;
          err = thrown;
        }
        if (attempt >= 4) throw err;
        const wait = pause.next(err.retryAfterMs);
        await new Promise((resolve) => env.setTimeout(resolve, wait));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      generation += 1;
      env.clearTimeout(retryTimer);
      env.clearTimeout(recheckTimer);
      drop(current);
      current = null;
      dropProbe();
      live.stop();
      for (const off of listeners) off();
      report({ status: 'closed', cause: 'closed by the app' });
    },
  };

}
