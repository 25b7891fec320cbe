// The visitor's channel and the event pattern the server generates on it.
//
// Each visitor gets a channel of their own, `demo-<random>`, kept in localStorage so that all
// their tabs share it (the WebSocket chat works between them) and nobody else's events mix in.
// `demo` stays available as "everyone's channel", fed by the server's shared ticker.
//
// Which channel this tab uses, first match wins:
//   1. `?channel=` in the page URL (tests and shared links);
//   2. `demo`, if the visitor chose everyone's channel (localStorage `ra-shared` is "1");
//   3. localStorage `ra-channel`, created on the first visit from the page's `data-channel`
//      (the server's choice, from the `ra_channel` cookie) or at random.
// The choice goes back into the `ra_channel` cookie, so the next page the server renders
// carries that channel's head as its cursor (`data-next`).

const SHARED = 'demo';
const VISITOR = /^demo-[a-z0-9]{6,32}$/;
const PATTERNS = ['quiet', 'every-10s', 'ticker'];
// Pages name the pattern that shows their lesson in the chooser's `data-default`; this is for
// a page without one.
const DEFAULT_PATTERN = 'ticker';

/** True for a name the server accepts as a visitor channel (`demo-` and 6–32 of [a-z0-9]). */
export function isVisitorChannel(name) {
  return typeof name === 'string' && VISITOR.test(name);
}

function isChannel(name) {
  return name === SHARED || isVisitorChannel(name);
}

/** localStorage, or a stand-in when the browser refuses it (private modes, policies). */
function storage() {
  try {
    const probe = window.localStorage;
    probe.getItem('ra-channel');
    return probe;
  } catch {
    const memory = new Map();
    return {
      getItem: (key) => (memory.has(key) ? memory.get(key) : null),
      setItem: (key, value) => memory.set(key, String(value)),
      removeItem: (key) => memory.delete(key),
    };
  }
}

function randomName() {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `demo-${Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('')}`;
}

/** The element that carries the server's settings (`data-channel`, `data-next`, …). */
function settingsElement(doc) {
  return doc.getElementById('log') ?? doc.querySelector('[data-channel]');
}

/** The visitor's own channel, created and stored on the first visit. */
function ownChannel(store, pageChannel) {
  let own = store.getItem('ra-channel');
  if (!isVisitorChannel(own)) {
    own = isVisitorChannel(pageChannel) ? pageChannel : randomName();
    store.setItem('ra-channel', own);
  }
  return own;
}

/**
 * Works out this tab's channel once. Returns the settings every script needs:
 * `channel`, `own` (the visitor's own channel, even while the tab uses `demo`), `next` (the
 * server's cursor, or null when it belongs to another channel), `technique` (the slug),
 * `fromUrl` (whether `?channel=` decided) and `pattern` (the one to ask for).
 */
function resolve(doc = document) {
  const store = storage();
  const el = settingsElement(doc);
  const data = el?.dataset ?? {};
  const params = new URLSearchParams(location.search);
  const own = ownChannel(store, data.channel);
  const asked = params.get('channel');
  let channel;
  if (isChannel(asked)) channel = asked;
  else if (store.getItem('ra-shared') === '1') channel = SHARED;
  else channel = own;

  doc.cookie = `ra_channel=${channel}; path=/; SameSite=Lax; max-age=31536000`;

  // Each page starts on its own lesson's pattern; a choice made on a page is kept for that
  // page only (another page would hide its own lesson under it).
  const technique = data.technique ?? doc.body?.dataset.technique ?? '';
  const askedPattern = params.get('pattern');
  const stored = store.getItem(`ra-pattern-${technique}`);
  const pageDefault = doc.getElementById('pattern')?.dataset.default;
  let pattern = PATTERNS.includes(pageDefault) ? pageDefault : DEFAULT_PATTERN;
  let chosen = true;
  if (PATTERNS.includes(askedPattern)) pattern = askedPattern;
  else if (PATTERNS.includes(stored)) pattern = stored;
  else chosen = false;

  return {
    channel,
    own,
    // A cursor rendered for another channel means nothing here: start from the head.
    next: data.channel === channel && data.next ? data.next : null,
    technique,
    fromUrl: isChannel(asked),
    pattern,
    // False while the page runs its own default (which may then move on: see wireChoosers).
    chosen,
    store,
  };
}

let cached = null;

/** This tab's settings (see `resolve`); worked out on the first call. */
export function settings() {
  cached ??= resolve();
  return cached;
}

/** This tab's channel name. */
export function channel() {
  return settings().channel;
}

/** `/api/channels/<channel>/events`: where this tab's channel is polled and published to. */
export function eventsUrl() {
  return `/api/channels/${channel()}/events`;
}

// The techniques whose held requests the lab (/compare) may send to another name of this
// server, and that name's origin ('' for this page's own). See holdElsewhere.
const MOVABLE = new Set(['multipart-streaming', 'server-sent-events', 'long-polling']);
let heldOrigin = '';

/**
 * Sends the held requests that may cross origins (multipart, SSE, the XHR long poll) to
 * `origin`, another name of this server with its own six connections. The forever iframe
 * stays, since its scripts call into this page, and the WebSocket has a budget of its own.
 * The script long poll stays too: a script from another origin loads without CORS (the
 * client library cannot ask for CORS, since most JSONP servers send no CORS headers), and
 * the browser then keeps its size to itself, so the lab could count only its body. That
 * leaves this origin two held requests (the iframe, the script) and the short polls.
 */
export function holdElsewhere(origin) {
  heldOrigin = origin;
}

/** The origin technique `slug` connects to: '' for this page's own. */
export function originFor(slug) {
  return MOVABLE.has(slug) ? heldOrigin : '';
}

/** Reloads the page without the query parameter `param` (a `?channel=` would override the choice). */
function reloadWithout(param) {
  const url = new URL(location.href);
  url.searchParams.delete(param);
  location.assign(url.href);
}

/** Sends one JSON request about the pattern; resolves with the answer body. */
async function patternRequest(method, path, body) {
  const res = await fetch(path, {
    method,
    cache: 'no-store',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) {
    const wait = res.headers.get('Retry-After');
    const retry = wait ? ` (try again in ${wait} s)` : '';
    throw new Error(`${answer.error || `the server answered ${res.status}`}${retry}`);
  }
  return answer;
}

/**
 * Wires the channel chooser and the pattern chooser of the demo, if the page has them, and
 * re-sends the stored pattern: the server forgets a pattern a minute after its last listener
 * left. Reports go to `#pattern-status`, not to the demo's log, so the log shows only the
 * technique at work.
 *
 * Returns `{ firstEmptyAnswer() }`. A page whose chooser has `data-then` (the long polls:
 * quiet first, so the first held request comes back empty at the server's cap) calls it when
 * that answer is in; unless the visitor has chosen a pattern, the chooser then moves on to
 * `data-then`, once.
 */
export function wireChoosers(doc = document) {
  const s = settings();
  const status = doc.getElementById('pattern-status');
  const say = (text) => {
    if (status) status.textContent = text;
  };

  const ownLabel = doc.getElementById('own-channel-name');
  if (ownLabel) ownLabel.textContent = s.own;
  for (const name of doc.querySelectorAll('.channel-name')) name.textContent = s.channel;
  for (const radio of doc.querySelectorAll('input[name="channel-choice"]')) {
    radio.checked = radio.value === (s.channel === SHARED ? 'shared' : 'own');
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      if (radio.value === 'shared') s.store.setItem('ra-shared', '1');
      else s.store.removeItem('ra-shared');
      reloadWithout('channel');
    });
  }

  const select = doc.getElementById('pattern');
  const burst = doc.getElementById('burst');
  const patternPath = `/api/channels/${s.channel}/pattern`;
  const shared = s.channel === SHARED;
  if (select) {
    select.value = s.pattern;
    select.disabled = shared;
  }
  if (burst) burst.disabled = shared;
  const moves = { firstEmptyAnswer() {} };
  if (shared) {
    say('Everyone\'s channel runs the shared ticker; choose your own channel to pick a pattern.');
    return moves;
  }

  async function put(pattern) {
    try {
      const answer = await patternRequest('PUT', patternPath, { pattern });
      say(`Pattern on ${s.channel}: ${answer.pattern ?? pattern}.`);
    } catch (err) {
      say(`The pattern could not be set: ${err.message}.`);
    }
  }

  select?.addEventListener('change', () => {
    s.store.setItem(`ra-pattern-${s.technique}`, select.value);
    s.pattern = select.value;
    s.chosen = true;
    put(select.value);
  });
  burst?.addEventListener('click', async () => {
    burst.disabled = true;
    try {
      const answer = await patternRequest('POST', `/api/channels/${s.channel}/burst`);
      say(`Burst sent: ${answer.ids?.length ?? 10} events.`);
    } catch (err) {
      say(`The burst could not be sent: ${err.message}.`);
    } finally {
      burst.disabled = false;
    }
  });
  put(s.pattern);
  const then = select?.dataset.then;
  moves.firstEmptyAnswer = () => {
    if (s.chosen || !PATTERNS.includes(then)) return;
    s.chosen = true;
    s.pattern = then;
    select.value = then;
    put(then);
  };
  return moves;
}
