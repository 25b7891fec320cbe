// Capped exponential back-off with jitter: after each failure the pause doubles, up to
// a limit, and is spread at random between half and all of it so that many clients
// that failed together do not all retry at the same moment.

export function createBackoff({ base = 1000, max = 30000 } = {}) {
  let failures = 0;
  return {
    /** Records a failure and returns how long to wait before trying again, in ms. */
    fail() {
      const ceiling = Math.min(max, base * 2 ** failures);
      failures += 1;
      return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    },

    /** Forgets past failures after a success. */
    reset() {
      failures = 0;
    },

    get failures() {
      return failures;
    },
  };
}
