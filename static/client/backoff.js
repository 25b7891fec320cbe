// Backoff: exponential with full jitter. The n-th pause in a row is drawn at random between
// the floor and min(max, base × 2^n), so clients that lost the server together come back
// spread out. A hint from the server (Retry-After, a shutdown's delay) is a floor: the pause
// is the hint plus a random share of it, so a draining server's clients return spread too.

/**
 * @param {{minMs?: number, baseMs?: number, maxMs?: number, random?: () => number}} [options]
 */
export function createBackoff({ minMs = 500, baseMs = 1000, maxMs = 30000, random = Math.random } = {}) {
  let failures = 0;
  return {
    /**
     * Counts one more failure and returns the pause before the next try, in ms.
     * @param {number} [hintMs] the server's own delay, when it gave one
     */
    next(hintMs) {
      const ceiling = Math.min(maxMs, baseMs * 2 ** failures);
      failures += 1;
      if (hintMs > 0) return Math.round(Math.min(hintMs, maxMs) * (1 + random()));
      return Math.round(Math.max(minMs, random() * ceiling));
    },
    /** Forgets the failures after a success. */
    reset() {
      failures = 0;
    },
    /** Failures in a row so far. */
    get failures() {
      return failures;
    },
  };
}

/**
 * The delay a `Retry-After` header asks for, in ms: seconds or an HTTP date; null without one.
 * @param {string | null} value
 * @param {number} now
 */
export function retryAfterMs(value, now = Date.now()) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
