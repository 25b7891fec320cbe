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
  // The longest a session lived before it was cut; a stream never cut lived the whole run.
  const longest = rec.cuts.reduce((best, cut) => (!best || cut.survived > best.survived ? cut : best), null);
  const uncut = STREAMS.has(rec.name) ? rec.openFor : null;
  return {
    open_ms: rec.head,
    hello_ms: rec.hello,
    events: rec.events.length,
    p50_ms: quantile(latencies, 0.5),
    p95_ms: quantile(latencies, 0.95),
    bytes_per_event: rec.events.length && rec.bytes ? Math.round(rec.bytes / rec.events.length) : null,
    clumped,
    held_ms: rec.held ? Math.round(rec.held) : null,
    cuts: rec.cuts.length,
    survived_ms: longest ? longest.survived : uncut,
    cut: Boolean(longest),
    silent: Boolean(longest?.silent),
    cut_message: longest?.message ?? null,
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
    if (rec.failed) return verdict('blocked', `It could not open: ${rec.failed.message} (after ${rec.failed.at} ms).`);
    if (rec.head !== null) {
      return verdict('buffered', `The answer's head arrived after ${rec.head} ms, but nothing of its body within ${window}: something holds the body back.`);
    }
    if (HELD.has(rec.name)) {
      return verdict('buffered', `No answer at all within ${window}, and no error either: something between here and the server holds the answer until it ends (a buffering proxy or a virus scanner does).`);
    }
    return verdict('blocked', `No answer within ${window} to a request the server answers at once.`);
  }
  if (f.cut) {
    const after = secs(f.survived_ms);
    const times = f.cuts > 1 ? `, cut ${f.cuts} times in ${window}` : '';
    const how = f.silent
      ? `its events stopped though the server sent one every ${feedMs} ms, and nothing told the browser`
      : `it was closed (${f.cut_message}) though the server had not ended it`;
    return verdict('cut', `It opened after ${rec.hello} ms${times}; the longest a connection lived was ${after}: ${how}. Something in between cuts held connections after about ${after}.`);
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
  let held = '';
  if (f.survived_ms !== null) held = `; open ${secs(f.survived_ms)} without a cut`;
  else if (f.held_ms !== null && HELD.has(rec.name)) held = `; the longest request was held ${secs(f.held_ms)}`;
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
  // A connection may reuse one opened a moment earlier, which is cut sooner: the longest
  // survival is the best estimate of the limit.
  const cuts = rows.filter((r) => r.verdict === 'cut').map((r) => r.figures.survived_ms);
  return { best: order[0] ?? null, order, paste, cut_after_ms: cuts.length ? Math.max(...cuts) : null };
}
