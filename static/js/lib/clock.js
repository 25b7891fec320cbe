// The difference between the server's clock and this browser's, so that an event's latency
// (when it reached us minus when the server stamped it) is not off by however far the two
// clocks disagree.
//
// How: ask `GET /api/clock` a few times. For each answer, the server read its clock
// somewhere between sending (t0) and receiving (t1), most likely near the middle, so
// offset = now_ms - (t0 + t1) / 2, good to within half the round trip. The shortest round
// trip gives the tightest estimate, so that one is kept. Until the answers are in (or if the
// server has no clock endpoint), the offset is 0: the clocks are assumed to agree.

const TRIES = 4;

let offset = 0;
let bestRoundTrip = Infinity;
let started = null;

/** server time - browser time, in ms (0 until measured). */
export function clockOffset() {
  return offset;
}

/** The half round trip of the best measurement: how far the offset may be wrong, in ms. */
export function clockUncertainty() {
  return Number.isFinite(bestRoundTrip) ? bestRoundTrip / 2 : null;
}

/** Milliseconds between the server stamping `at` (RFC 3339) and now, corrected. */
export function latencySince(at) {
  const sent = Date.parse(at);
  if (Number.isNaN(sent)) return null;
  return Math.max(0, Date.now() + offset - sent);
}

/** A server time (RFC 3339) as this browser's `Date.now()` scale. */
export function toLocalTime(at) {
  const sent = Date.parse(at);
  return Number.isNaN(sent) ? null : sent - offset;
}

/** Measures the offset once per page; resolves when done (never rejects). */
export function syncClock() {
  started ??= (async () => {
    for (let i = 0; i < TRIES; i += 1) {
      try {
        const t0 = Date.now();
        const res = await fetch('/api/clock', { cache: 'no-store' });
        const t1 = Date.now();
        if (!res.ok) return;
        const { now_ms: now } = await res.json();
        if (typeof now !== 'number') return;
        if (t1 - t0 < bestRoundTrip) {
          bestRoundTrip = t1 - t0;
          offset = Math.round(now - (t0 + t1) / 2);
        }
      } catch {
        return;
      }
    }
  })();
  return started;
}
