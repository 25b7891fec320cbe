// The connection's behaviour over fake transports and a fake clock: choice and fallback,
// re-check and the switch, resume, liveness, offline, and honest state.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import websocket from '../transports/websocket.js';
import { event, fakeTransport, fakeWebSocket, flush, harness, hello, memoryStorage, slowHello } from './fakes.js';

const statuses = (seen) => seen.states.map((s) => `${s.status}:${s.transport}`);

test('a transport that is refused falls over to the next at once, and the state says why', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.fail(Object.assign(new Error('refused'), { status: 404, fatal: true })) });
  const sse = fakeTransport('sse', { onOpen: (s) => s.ctx.frame(hello) });
  const { conn, seen } = harness([ws, sse]);
  await flush();
  assert.equal(conn.transport, 'sse');
  const last = seen.states.at(-1);
  assert.deepEqual([last.status, last.transport, last.fallbacks], ['open', 'sse', 1]);
  const fallback = seen.states.find((s) => s.fallbacks === 1);
  assert.match(fallback.cause, /^ws: refused/);
  assert.ok(!statuses(seen).slice(0, -1).includes('open:ws'), 'never open on the refused transport');
});

test('a stream that answers but sends no hello within the open timeout gives way', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.responded() });
  const poll = fakeTransport('poll', { onOpen: (s) => s.ctx.batch({ events: [], next: 'e-0' }) });
  const { conn, clock, seen } = harness([ws, poll]);
  await flush();
  assert.equal(conn.transport, null);
  assert.equal(seen.states.at(-1).status, 'connecting');
  clock.advance(6000);
  await flush();
  assert.equal(conn.transport, 'poll');
  assert.ok(ws.last.closed);
  assert.match(seen.states.find((s) => s.fallbacks === 1).cause, /answered but sent no hello within 6 s/);
});

test('events reach onEvent once each, in order, across reconnections that resume from the cursor', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.frame(hello) });
  const { conn, clock, seen } = harness([ws]);
  await flush();
  ws.last.ctx.frame(event(1));
  ws.last.ctx.frame(event(2));
  ws.last.ctx.fail(new Error('connection reset'));
  assert.equal(seen.states.at(-1).status, 'connecting');
  clock.advance(1000);
  await flush();
  assert.equal(ws.sessions.length, 2);
  assert.equal(ws.last.since, 'e-2');
  // The server resends from an older id: duplicates are dropped.
  ws.last.ctx.frame(event(2));
  ws.last.ctx.frame(event(3));
  assert.deepEqual(seen.events, ['e-1', 'e-2', 'e-3']);
  assert.equal(conn.cursor, 'e-3');
});

test('a reset reaches onReset with its reason before any later event', async () => {
  const lp = fakeTransport('lp', {
    onOpen: (s) => s.ctx.batch({ events: [event(9)], next: 'e-9', reset: true, reset_reason: 'unknown_epoch' }),
  });
  const { seen, conn } = harness([lp], { connect: { since: 'old-5' } });
  await flush();
  assert.deepEqual(seen.log, ['reset unknown_epoch', 'event e-9']);
  assert.deepEqual(seen.resets, [{ reason: 'unknown_epoch', next: 'e-9' }]);
  assert.equal(conn.cursor, 'e-9');
});

test('a reset frame on a stream carries its reason too', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.frame(hello) });
  const { seen } = harness([ws]);
  await flush();
  ws.last.ctx.frame({ type: 'reset', next: 'n-4', reason: 'evicted' });
  ws.last.ctx.frame(event(5));
  assert.deepEqual(seen.log, ['reset evicted', 'event e-5']);
});

test('after a fallback the better transport is probed from 30 s and the switch loses and repeats nothing', async () => {
  let wsWorks = false;
  const ws = fakeTransport('ws', {
    onOpen: (s) => (wsWorks ? s.ctx.frame(hello) : s.ctx.fail(new Error('upgrade refused'))),
  });
  const lp = fakeTransport('lp', { onOpen: (s) => s.ctx.batch({ events: [], next: 'e-0' }) });
  const { conn, clock, seen } = harness([ws, lp]);
  await flush();
  assert.equal(conn.transport, 'lp');
  lp.last.ctx.batch({ events: [event(1)], next: 'e-1' });

  // The first probe fails: the next waits twice as long.
  clock.advance(30_000);
  await flush();
  assert.equal(ws.sessions.length, 2);
  assert.equal(conn.transport, 'lp');
  clock.advance(59_000);
  await flush();
  assert.equal(ws.sessions.length, 2);

  wsWorks = true;
  clock.advance(1_000);
  await flush();
  assert.equal(ws.sessions.length, 3);
  assert.equal(ws.last.since, 'e-1', 'the probe starts from the cursor');
  assert.equal(conn.transport, 'ws');
  assert.ok(lp.last.closed);
  ws.last.ctx.frame(event(1));
  ws.last.ctx.frame(event(2));
  assert.deepEqual(seen.events, ['e-1', 'e-2']);
  assert.equal(seen.states.at(-1).status, 'open');
});

test('a connection that keeps reopening does not put the re-check off', async () => {
  let wsWorks = false;
  const ws = fakeTransport('ws', { onOpen: (s) => (wsWorks ? s.ctx.frame(hello) : s.ctx.fail(new Error('refused'))) });
  const lp = fakeTransport('lp', { onOpen: (s) => s.ctx.batch({ events: [], next: 'e-0' }) });
  const { conn, clock } = harness([ws, lp]);
  await flush();
  wsWorks = true;
  for (let i = 0; i < 4; i++) {
    for (let second = 0; second < 8; second++) {
      clock.advance(1_000);
      await flush();
    }
    lp.last.ctx.fail(new Error('cut'));
    clock.advance(1_000);
    await flush();
  }
  assert.equal(conn.transport, 'ws', 'probed 30 s after the first open, despite the reopenings');
});

test('a probe that opens late gives way and the current transport keeps running', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.responded() });
  const lp = fakeTransport('lp', { onOpen: (s) => s.ctx.batch({ events: [], next: 'e-0' }) });
  const { conn, clock } = harness([ws, lp]);
  await flush();
  clock.advance(6_000);
  await flush();
  assert.equal(conn.transport, 'lp');
  clock.advance(30_000);
  await flush();
  const probe = ws.last;
  clock.advance(5_000);
  assert.ok(probe.closed);
  assert.equal(conn.transport, 'lp');
  assert.ok(!lp.last.closed);
});

test('the transport that worked is tried first on the next page, for 30 minutes', async () => {
  const local = memoryStorage();
  const make = () => [
    fakeTransport('ws', { onOpen: (s) => s.ctx.fail(new Error('refused')) }),
    fakeTransport('sse', { onOpen: (s) => s.ctx.frame(hello) }),
  ];
  const first = make();
  harness(first, { local });
  await flush();
  assert.equal(first[0].sessions.length, 1);

  const second = make();
  const { conn } = harness(second, { local });
  await flush();
  assert.equal(second[0].sessions.length, 0, 'the refused transport is not tried first');
  assert.equal(conn.transport, 'sse');
});

test('silence longer than twice the heartbeat means dead: it reconnects from the cursor', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.frame(hello) });
  const { clock, seen } = harness([ws]);
  await flush();
  ws.last.ctx.frame(event(1));
  clock.advance(1500);
  ws.last.ctx.frame({ type: 'heartbeat' });
  clock.advance(1500);
  assert.equal(ws.sessions.length, 1);
  clock.advance(1000);
  assert.ok(ws.sessions[0].closed);
  assert.match(seen.states.at(-1).cause, /silent for 3 s/);
  clock.advance(1000);
  await flush();
  assert.equal(ws.sessions.length, 2);
  assert.equal(ws.last.since, 'e-1');
});

test('a WebSocket is watched from its hello: silence ends it, heartbeat frames keep it', async () => {
  const { WebSocket, sockets } = fakeWebSocket();
  const { clock, seen } = harness([websocket], { env: { WebSocket } });
  await flush();
  sockets[0].onopen();
  sockets[0].receive(hello);
  clock.advance(3000);
  assert.ok(sockets[0].closed, 'silence for more than twice the heartbeat ends it');
  assert.match(seen.states.at(-1).cause, /silent for 3 s/);
  clock.advance(1000);
  await flush();
  assert.equal(sockets.length, 2);
  sockets[1].onopen();
  sockets[1].receive(hello);
  for (let beat = 0; beat < 10; beat++) {
    clock.advance(1000);
    sockets[1].receive({ type: 'heartbeat' });
  }
  assert.ok(!sockets[1].closed, 'heartbeats keep a channel without events open');
  assert.equal(seen.events.length, 0, 'a heartbeat is not an event');
});

test('offline stops without counting attempts; online reconnects at once', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.frame(hello) });
  const { window, clock, seen, conn } = harness([ws]);
  await flush();
  window.fire('offline');
  assert.equal(conn.state.status, 'offline');
  assert.ok(ws.last.closed);
  clock.advance(120_000);
  await flush();
  assert.equal(ws.sessions.length, 1, 'nothing is tried while offline');
  window.fire('online');
  await flush();
  assert.equal(ws.sessions.length, 2);
  assert.equal(conn.state.status, 'open');
  assert.ok(seen.states.every((s) => s.attempt === 0));
});

test('a machine that slept reconnects at once, as does a page restored from the cache', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.frame(hello) });
  const { window, clock } = harness([ws]);
  await flush();
  clock.advance(500);
  clock.sleep(600_000);
  clock.advance(1000);
  await flush();
  assert.equal(ws.sessions.length, 2);
  assert.ok(ws.sessions[0].closed);
  window.fire('pageshow', { persisted: true });
  await flush();
  assert.equal(ws.sessions.length, 3);
});

test('a server shutting down is given its delay, then more at random', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.frame(slowHello) });
  const { clock } = harness([ws]);
  await flush();
  clock.advance(5000);
  ws.last.ctx.end('shutdown', 4000);
  clock.advance(5999); // random() is 0.5 in the fake: 4 s + 2 s
  await flush();
  assert.equal(ws.sessions.length, 1);
  clock.advance(1);
  await flush();
  assert.equal(ws.sessions.length, 2);
});

test('a server ending a stream on purpose is rejoined at once; an end right after opening backs off', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.frame(slowHello) });
  const { clock } = harness([ws]);
  await flush();
  clock.advance(5000);
  ws.last.ctx.end('budget');
  await flush();
  assert.equal(ws.sessions.length, 2);
  ws.last.ctx.end('token_expired');
  await flush();
  assert.equal(ws.sessions.length, 2, 'an end within a second of opening waits');
  clock.advance(1000);
  await flush();
  assert.equal(ws.sessions.length, 3);
});

test('401: a fresh token is fetched and the same transport tried again at once', async () => {
  let tokens = 0;
  let refuse = true;
  const ws = fakeTransport('ws', {
    onOpen: (s) => (refuse ? s.ctx.fail(Object.assign(new Error('401'), { status: 401 })) : s.ctx.frame(hello)),
  });
  const other = fakeTransport('other');
  const { conn } = harness([ws, other], {
    connect: {
      token: async () => {
        tokens += 1;
        refuse = tokens < 2;
        return `t${tokens}`;
      },
    },
  });
  await flush();
  await flush();
  assert.equal(tokens, 2);
  assert.equal(ws.sessions.length, 2);
  assert.equal(conn.transport, 'ws');
  assert.equal(other.sessions.length, 0);
});

test('when every transport fails it starts again from the best after a pause', async () => {
  const a = fakeTransport('a', { onOpen: (s) => s.ctx.fail(new Error('down')) });
  const b = fakeTransport('b', { onOpen: (s) => s.ctx.fail(new Error('down')) });
  const { clock, conn } = harness([a, b]);
  await flush();
  assert.deepEqual([a.sessions.length, b.sessions.length], [1, 1]);
  assert.equal(conn.state.attempt, 1);
  assert.equal(conn.state.status, 'connecting');
  clock.advance(1000);
  await flush();
  assert.deepEqual([a.sessions.length, b.sessions.length], [2, 2]);
});

test('piggyback opens with the first answer absorbed; absorb feeds events on any transport', async () => {
  const pb = fakeTransport('piggyback', { passive: true });
  const { conn, clock, seen } = harness([pb]);
  await flush();
  clock.advance(60_000);
  assert.equal(conn.state.status, 'connecting', 'no open timeout for piggyback');
  conn.absorb({ form: {}, events: [event(1), event(2)], next: 'e-2' });
  assert.equal(conn.state.status, 'open');
  conn.absorb({ events: [event(2), event(3)], next: 'e-3' });
  assert.deepEqual(seen.events, ['e-1', 'e-2', 'e-3']);
});

test('close stops everything and says so', async () => {
  const ws = fakeTransport('ws', { onOpen: (s) => s.ctx.frame(hello) });
  const { conn, clock, seen } = harness([ws]);
  await flush();
  conn.close();
  assert.ok(ws.last.closed);
  assert.equal(seen.states.at(-1).status, 'closed');
  clock.advance(600_000);
  await flush();
  assert.equal(ws.sessions.length, 1);
  ws.last.ctx.frame(event(1));
  assert.deepEqual(seen.events, []);
});

test('publish sends JSON with one idempotency key, kept across its retries', async () => {
  const calls = [];
  const answers = [{ status: 504 }, { status: 201, body: { id: 'e-1' } }];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const { status, body = {} } = answers.shift();
    return { ok: status < 300, status, headers: { get: () => null }, json: async () => body };
  };
  const { conn, clock } = harness([fakeTransport('piggyback', { passive: true })], { fetch });
  const done = conn.publish({ hi: 1 });
  await flush();
  clock.advance(1000);
  assert.deepEqual(await done, { id: 'e-1' });
  assert.equal(calls.length, 2);
  assert.equal(calls[0].url, 'http://test/api/channels/ch/events');
  assert.equal(calls[0].init.body, '{"hi":1}');
  const keys = calls.map((c) => c.init.headers['Idempotency-Key']);
  assert.ok(keys[0] && keys[0] === keys[1]);
});

test('publish gives up at once on a refusal that retrying cannot change', async () => {
  let calls = 0;
  const fetch = async () => {
    calls += 1;
    return { ok: false, status: 403, headers: { get: () => null }, json: async () => ({ error: 'not allowed here' }) };
  };
  const { conn } = harness([fakeTransport('piggyback', { passive: true })], { fetch });
  await assert.rejects(conn.publish('x'), /not allowed here/);
  assert.equal(calls, 1);
});

test('onTrace shows what went out and what came back, for the live session only', async () => {
  const { WebSocket, sockets } = fakeWebSocket();
  const traces = [];
  const { clock } = harness([websocket], { env: { WebSocket }, connect: { onTrace: (t) => traces.push(t) } });
  await flush();
  sockets[0].onopen();
  sockets[0].receive(hello);
  sockets[0].receive({ id: 'e-1', channel: 'ch', data: 1, at: '' });
  assert.deepEqual(
    traces.map((t) => [t.transport, t.kind]),
    [
      ['websocket', 'send'],
      ['websocket', 'frame'],
      ['websocket', 'frame'],
    ],
  );
  assert.equal(traces[0].data, sockets[0].url);
  assert.deepEqual(traces[2].data, { id: 'e-1', channel: 'ch', data: 1, at: '' });
  // A socket that is replaced says nothing more.
  sockets[0].onclose({ code: 1006 });
  sockets[0].receive({ type: 'heartbeat' });
  assert.equal(traces.length, 3);
  clock.advance(1000);
  await flush();
  assert.equal(traces.at(-1).kind, 'send');
  assert.match(traces.at(-1).data, /^ws:\/\/test\/push\/ch\/ws\?since=e-1$/);
});

test('onTrace shows each answer of a poll as the value it carried', async () => {
  const lp = fakeTransport('lp', { onOpen: (s) => s.ctx.batch({ events: [event(1)], next: 'e-1' }) });
  const traces = [];
  harness([lp], { connect: { onTrace: (t) => traces.push(t) } });
  await flush();
  assert.deepEqual(traces, [{ transport: 'lp', kind: 'answer', data: { events: [event(1)], next: 'e-1' } }]);
});
