// Negotiation: which transports to try, in which order, and what a failure leads to. Pure
// functions over plain values, so the order and the fallback rules are tested without a
// browser.

/** Every transport, best first. */
export const ALL = [
  'websocket',
  'server-sent-events',
  'multipart-streaming',
  'forever-iframe',
  'long-polling',
  'script-long-polling',
  'polling',
  'jsonp-polling',
  'piggyback',
];

/** The default list: all but piggyback, which only moves when the app's own requests do. */
export const DEFAULT_TRANSPORTS = ALL.slice(0, -1);

/**
 * The transports to try, in the caller's order: those that exist and that this browser
 * supports for this server. `skipped` says why the others are out.
 * @param {string[]} asked
 * @param {Record<string, {supported?: (env: object, base: string) => boolean}>} registry
 */
export function candidates(asked, registry, env, base) {
  const list = [];
  const skipped = {};
  for (const name of asked) {
    const transport = registry[name];
    if (!transport) skipped[name] = 'unknown transport';
    else if (transport.supported && !transport.supported(env, base)) skipped[name] = 'not supported here';
    else if (!list.includes(name)) list.push(name);
  }
  return { list, skipped };
}

/**
 * What to do after a session failed:
 * - 'retry' the same transport after a pause: it had opened (the connection dropped), or the
 *   server asked for patience (429, 503), or it worked earlier and failed fewer than 3 times;
 * - 'fallback' to the next transport at once: it never opened and the failure says it will
 *   not (a status that retrying will not change, no answer or no hello within the open
 *   timeout, a refused connection);
 * - 'restart' from the best transport after a pause, when the last one failed that way.
 * @param {{err: {status?: number, fatal?: boolean, silent?: boolean}, opened: boolean,
 *   worked: boolean, failsInRow: number, last: boolean}} facts
 * @returns {'retry' | 'fallback' | 'restart'}
 */
export function decide({ err, opened, worked, failsInRow, last }) {
  if (opened || err.status === 429 || err.status === 503) return 'retry';
  if (worked && !err.fatal && !err.silent && failsInRow < 2) return 'retry';
  return last ? 'restart' : 'fallback';
}

/** Where the remembered transport for `base` lives in localStorage. */
const memoryKey = (base) => `ra-transport:${base}`;

/** The transport that last worked for `base`, if it did within `maxAgeMs`; else null. */
export function remembered(storage, base, now, maxAgeMs) {
  try {
    const { name, at } = JSON.parse(storage.getItem(memoryKey(base)) ?? 'null') ?? {};
    return typeof name === 'string' && now - at >= 0 && now - at < maxAgeMs ? name : null;
  } catch {
    return null;
  }
}

/** Remembers that `name` worked for `base` at `now`. */
export function remember(storage, base, name, now) {
  try {
    storage.setItem(memoryKey(base), JSON.stringify({ name, at: now }));
  } catch {
    // Only the next page's first choice is lost.
  }
}
