// Liveness: one rule for every transport. A connection that shows no sign of life for longer
// than its limit (twice the heartbeat the server announced, or a long poll's cap plus a
// margin, or the open timeout before it has opened) is dead.
//
// A tick checks the rule every second. The tick also notices when the wall clock moved much
// further than the monotonic clock since the last tick (the machine slept), and says so at
// once: timers were frozen, the connection is probably gone, and waiting out the limit would
// only delay the resume.

const TICK_MS = 1000;
const JUMP_MS = 5000;

/**
 * @param {{now: () => number, mono: () => number, setInterval: typeof setInterval,
 *   clearInterval: typeof clearInterval}} env
 * @param {{dead: (silentMs: number) => void, woke: (jumpMs: number) => void}} report
 */
export function createLiveness(env, { dead, woke }) {
  let limit = 0;
  let last = env.now();
  let progress = null;
  let seen;
  let wall = env.now();
  let mono = env.mono();
  const timer = env.setInterval(() => {
    const now = env.now();
    const clock = env.mono();
    const jump = now - wall - (clock - mono);
    wall = now;
    mono = clock;
    if (jump > JUMP_MS) return woke(jump);
    if (progress) {
      const value = progress();
      if (value !== seen) {
        seen = value;
        last = now;
      }
    }
    if (limit > 0 && now - last > limit) {
      limit = 0;
      dead(now - last);
    }
  }, TICK_MS);

  return {
    /**
     * Starts (or restarts) the watch with a new limit, counting silence from now.
     * `watchProgress` is polled each tick; a change counts as a sign of life.
     */
    watch(limitMs, watchProgress = null) {
      limit = limitMs;
      last = env.now();
      progress = watchProgress;
      seen = progress?.();
    },
    /** A sign of life: a frame, a heartbeat, more bytes. */
    beat() {
      last = env.now();
    },
    /** Stops watching (offline, closed); the wall-clock check goes on. */
    pause() {
      limit = 0;
    },
    /** Stops the tick for good. */
    stop() {
      env.clearInterval(timer);
    },
  };
}
