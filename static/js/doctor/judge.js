// From what a probe saw (probe.js) to a verdict, the figures behind it and the evidence in
// words. One rule set for every technique; where they differ (a poll waits its interval, a
// stream should deliver each event as it comes) the difference is named here.

/** Techniques whose one answer carries every event as it happens. */
const STREAMS = new Set(['websocket', 'server-sent-events', 'multipart-streaming', 'forever-iframe']);
/** Techniques that hold a request open (a stream, or a long poll) and so can be held back. */
const HELD = new Set([...STREAMS, 'long-polling', 'script-long-polling']);
/** Techniques that ask again on a timer, so an event waits up to the interval. */
const TIMED = new Set(['polling', 'jsonp-polling', 'piggyback']);

/** Events closer together than this on arrival came in one piece. */
const CLUMP_MS = 30;

/** The `q` quantile (0..1) of sorted `values`, or null. */
function quantile(values, q) {
  if (!values.length) return null;
  return values[Math.min(values.length - 1, Math.floor(q * values.length))];
}

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** The figures of one probe; `offset` is server time minus browser time, in ms. */
export function figures(rec, offset) {
  const latencies = rec.events
    .filter((e) => e.sent !== null)
    .map((e) => Math.max(0, e.wall + offset - e.sent))
    .sort((a, b) => a - b);
  let clumped = 0;
  rec.events.forEach((e, i) => {
    if (i > 0 && e.at - rec.events[i - 1].at < CLUMP_MS) clumped += 1;
  });
  const survived = rec.ended && rec.hello !== null ? rec.ended.at - (rec.head ?? rec.hello) : null;
  return {
    open_ms: rec.head,
    hello_ms: rec.hello,
    events: rec.events.length,
    p50_ms: quantile(latencies, 0.5),
    p95_ms: quantile(latencies, 0.95),
    bytes_per_event: rec.events.length && rec.bytes ? Math.round(rec.bytes / rec.events.length) : null,
    clumped,
    held_ms: rec.held ? Math.round(rec.held) : null,
    survived_ms: survived ?? (rec.hello !== null && HELD.has(rec.name) ? rec.windowMs - (rec.head ?? rec.hello) : null),
    cut: Boolean(survived !== null),
  };
}

/**
 * The verdict and its evidence for one probe.
 * @param {object} rec what probe() resolved with
 * @param {{offset: number, rttMs: number, pollMs: number, feedMs: number}} context
 */
export function judge(rec, { offset, rttMs, pollMs, feedMs }) {
  const f = figures(rec, offset);
  const verdict = (name, evidence) => ({ transport: rec.name, verdict: name, evidence, figures: f });
  const window = secs(rec.windowMs);
  if (!rec.supported) return verdict('unsupported', 'This browser does not have what this technique needs.');
  if (rec.hello === null) {
    if (rec.ended) return verdict('blocked', `It could not open: ${rec.ended.message} (after ${rec.ended.at} ms).`);
    if (rec.head !== null) {
      return verdict('buffered', `The answer's head arrived after ${rec.head} ms, but nothing of its body within ${window}: something holds the body back.`);
    }
    if (HELD.has(rec.name)) {
      return verdict('buffered', `No answer at all within ${window}, and no error either: something between here and the server holds the answer until it ends (a buffering proxy or a virus scanner does).`);
    }
    return verdict('blocked', `No answer within ${window} to a request the server answers at once.`);
  }
  if (rec.ended) {
    const after = secs(f.survived_ms);
    return verdict('cut', `It opened after ${rec.hello} ms and was closed ${after} later (${rec.ended.message}), though the server had not ended it: something in between cuts held connections after about ${after}.`);
  }
  if (!rec.events.length) {
    return verdict('buffered', `It opened after ${rec.hello} ms, but none of the events the server sent every ${feedMs} ms arrived within ${window}.`);
  }
  const allowance = (TIMED.has(rec.name) ? pollMs : 0) + Math.max(1500, 5 * rttMs);
  if (STREAMS.has(rec.name) && rec.head !== null && rec.hello - rec.head > 1000) {
    return verdict('buffered', `The head arrived after ${rec.head} ms, its first frame only after ${secs(rec.hello)}: something buffers the response.`);
  }
  if (f.p50_ms > allowance) {
    if (STREAMS.has(rec.name) && f.clumped * 2 >= f.events) {
      return verdict('buffered', `Events came ${f.p50_ms} ms late (median) and in clumps (${f.clumped} of ${f.events} with the one before): something collects the stream before passing it on.`);
    }
    return verdict('slow', `It works, but events took ${f.p50_ms} ms (median) against a round trip of ${rttMs} ms.`);
  }
  const held = HELD.has(rec.name) ? `, held ${secs(f.survived_ms)} without a cut` : '';
  return verdict('ok', `Opened after ${rec.hello} ms; ${f.events} events, ${f.p50_ms} ms late at the median${held}.`);
}

/** Verdicts from best to worst use: what the client should prefer. */
const RANK = { ok: 0, slow: 1 };

/**
 * The summary: the best technique, the order the client should try (only those that work,
 * best first in the library's own order) and the `connect()` call to paste.
 * @param {{transport: string, verdict: string}[]} rows in the library's order
 */
export function summary(rows, channel = 'your-channel') {
  const usable = rows.filter((r) => r.verdict in RANK && r.transport !== 'piggyback');
  const order = [...usable].sort((a, b) => RANK[a.verdict] - RANK[b.verdict]).map((r) => r.transport);
  const paste = `connect('${channel}', {\n  transports: [${order.map((n) => `'${n}'`).join(', ')}],\n  onEvent(event) { /* … */ },\n});`;
  return { best: order[0] ?? null, order, paste };
}
