// The bookmark a client sends back to the server: the id of the last event it has.
// It starts from the head the server wrote into the page (the log's `data-next`), or
// empty (the server then answers with the current head), and follows `next`.

import { byteLength } from './log.js';

export function createCursor(start = document.getElementById('log')?.dataset.next) {
  let since = start || null;
  return {
    /** The current bookmark, or null before the first answer. */
    get since() {
      return since;
    },

    /** `since=<id>` ready for a query string, or '' when there is no bookmark yet. */
    query() {
      return since ? `since=${encodeURIComponent(since)}` : '';
    },

    /** `path` with `?since=<id>` added once there is a bookmark. */
    url(path) {
      return since ? `${path}?since=${encodeURIComponent(since)}` : path;
    },

    /** Takes an answer's `next`; logs it when the server had to reset the bookmark. */
    update(answer, log) {
      if (answer.reset && log) {
        log.client(`cursor reset by the server: some events may be missing; continuing from ${answer.next}`);
      }
      if (answer.next) since = answer.next;
    },
  };
}

/**
 * Fetches one batch answer (`{events, next, reset}`) from `path` after the cursor: counts the
 * request and the bytes received, follows `next`, and hands the events to the log. Returns
 * the events that were new. `init` goes to fetch() (for example an abort `signal`).
 */
export async function fetchBatch(path, cursor, log, init = {}) {
  log.request();
  const res = await fetch(cursor.url(path), { cache: 'no-store', ...init });
  const text = await res.text();
  log.bytes(byteLength(text));
  if (!res.ok) throw new Error(`the server answered ${res.status}`);
  const answer = JSON.parse(text);
  cursor.update(answer, log);
  return log.events(answer.events);
}
