// Test doubles for the client: a clock whose time only moves when a test says so, storage,
// and transports whose sessions the test drives by hand.

import { connect } from '../reverse-ajax.js';

/** A clock with timers; `advance` runs what falls due, `sleep` moves only the wall clock. */
export function fakeClock() {
  let wall = 1_700_000_000_000;
  let mono = 0;
  let nextId = 0;
  const timers = new Map();
  const add = (fn, ms, every) => {
    timers.set(++nextId, { at: mono + Math.max(0, ms), fn, every });
    return nextId;
  };
  return {
    now: () => wall,
    mono: () => mono,
    random: () => 0.5,
    setTimeout: (fn, ms = 0) => add(fn, ms, 0),
    clearTimeout: (id) => timers.delete(id),
    setInterval: (fn, ms) => add(fn, ms, ms),
    clearInterval: (id) => timers.delete(id),
    /** Moves both clocks by `ms`, running every timer that falls due, in order. */
    advance(ms) {
      const end = mono + ms;
      for (;;) {
        let due = null;
        for (const [id, t] of timers) if (t.at <= end && (!due || t.at < due[1].at)) due = [id, t];
        if (!due) break;
        const [id, t] = due;
        wall += t.at - mono;
        mono = t.at;
        if (t.every) t.at += t.every;
        else timers.delete(id);
        t.fn();
      }
      wall += end - mono;
      mono = end;
    },
    /** The machine slept: the wall clock moved, the monotonic clock and the timers did not. */
    sleep(ms) {
      wall += ms;
    },
  };
}

export function memoryStorage() {
  const map = new Map();
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => void map.set(k, String(v)),
    removeItem: (k) => void map.delete(k),
  };
}

/** A transport whose sessions are recorded; `onOpen(session)` may act at once. */
export function fakeTransport(name, { onOpen = () => {}, supported = true, passive = false } = {}) {
  const sessions = [];
  return {
    name,
    passive,
    sessions,
    supported: () => supported,
    get last() {
      return sessions[sessions.length - 1];
    },
    open(ctx) {
      const session = { ctx, closed: false, since: ctx.url('x').split('since=')[1] ?? null };
      sessions.push(session);
      onOpen(session);
      return () => {
        session.closed = true;
      };
    },
  };
}

/** A `WebSocket` class whose sockets the test drives by hand; `sockets` lists them. */
export function fakeWebSocket() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.closed = false;
      sockets.push(this);
    }
    close() {
      this.closed = true;
    }
    /** The server sends `frame` as a text frame. */
    receive(frame) {
      this.onmessage?.({ data: JSON.stringify(frame) });
    }
  }
  return { WebSocket: FakeWebSocket, sockets };
}

/** A minimal EventTarget standing in for `window`. */
export function fakeWindow() {
  const handlers = {};
  return {
    navigator: { onLine: true },
    location: { origin: 'http://test' },
    addEventListener: (type, fn) => (handlers[type] ??= []).push(fn),
    removeEventListener: (type, fn) => (handlers[type] = (handlers[type] ?? []).filter((f) => f !== fn)),
    fire: (type, event = {}) => (handlers[type] ?? []).forEach((fn) => fn(event)),
  };
}

/** Lets pending promise callbacks run (the token fetch before each open). */
export const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** A connection over fake transports, recording everything it reports. */
export function harness(transports, options = {}) {
  const clock = fakeClock();
  const window = fakeWindow();
  const env = {
    ...clock,
    window,
    document: undefined,
    fetch: options.fetch,
    session: options.session ?? memoryStorage(),
    local: options.local ?? memoryStorage(),
    transports: Object.fromEntries(transports.map((t) => [t.name, t])),
    ...options.env,
  };
  const seen = { events: [], resets: [], states: [], log: [] };
  const conn = connect('ch', {
    url: 'http://test',
    transports: transports.map((t) => t.name),
    onEvent: (e) => {
      seen.events.push(e.id);
      seen.log.push(`event ${e.id}`);
    },
    onReset: (r) => {
      seen.resets.push(r);
      seen.log.push(`reset ${r.reason}`);
    },
    onState: (s) => seen.states.push(s),
    ...options.connect,
    env,
  });
  return { clock, window, conn, seen, env };
}

export const event = (seq) => ({ id: `e-${seq}`, channel: 'ch', data: seq, at: '' });
export const hello = { type: 'hello', time: 0, heartbeat_ms: 1000 };
/** A hello announcing a heartbeat long enough for the test to stay quiet. */
export const slowHello = { type: 'hello', time: 0, heartbeat_ms: 600_000 };
