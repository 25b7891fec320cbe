// The bookmark a client sends back to the server: the id of the last event it has.
// It starts from the head the server wrote into the page (the log's `data-next`) when the
// page was rendered for this tab's channel, or empty (the server then answers with the
// current head), and follows `next`.

import { settings } from './channel.js';
import { byteLength, plural, requestLine } from './log.js';
import { transferSize } from './wire.js';

export function createCursor(start = settings().next) {
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

    /**
     * Takes an answer's `next`; logs it, with the server's `reset_reason`, when the server had
     * to reset the bookmark.
     */
    update(answer, log) {
      if (answer.reset && log) {
        const why = answer.reset_reason ? ` (${answer.reset_reason})` : '';
        log.client(`cursor reset by the server${why}: some events may be missing; continuing from ${answer.next}`);
      }
      if (answer.next) since = answer.next;
    },
  };
}

/**
 * Counts the bytes of a completed request on the wire: the browser's measured transfer size
 * (headers included) when it reports one, else the body's size. Updates the mark's tooltip.
 */
export async function countTransfer(url, bodyBytes, log, mark) {
  const measured = await transferSize(url);
  log.bytes(measured ?? bodyBytes);
  mark?.describe(measured === null ? ' (body only: no measurement)' : ` (${measured} B with headers)`);
  return measured;
}

/**
 * Fetches one batch answer (`{events, next, reset}`) from `path` (absolute) after the
 * cursor: counts the request and the bytes on the wire, draws both on the timeline, shows the
 * raw answer, follows `next`, and hands the events to the log. Returns the events that were
 * new. `init` goes to fetch() (for example an abort `signal`); `held` draws the wait of a
 * long poll.
 */
export async function fetchBatch(path, cursor, log, init = {}, { held = false } = {}) {
  const url = cursor.url(path);
  const mark = log.request(requestLine(url), { held });
  let res;
  let text;
  try {
    res = await fetch(url, { cache: 'no-store', ...init });
    text = await res.text();
  } catch (err) {
    if (init.signal?.aborted) mark.end('abandoned');
    else mark.fail(err.message);
    throw err;
  }
  const bodyBytes = byteLength(text);
  log.raw(text, `${requestLine(url)} → ${res.status} ${res.statusText}, ${bodyBytes} B of body`);
  if (!res.ok) {
    mark.answer({ status: res.status, size: bodyBytes, kind: 'empty', text: 'error' });
    countTransfer(url, bodyBytes, log, mark);
    throw new Error(`the server answered ${res.status}`);
  }
  return takeBatch(JSON.parse(text), { url, bodyBytes, status: res.status }, cursor, log, mark);
}

/**
 * What every batch answer (`{events, next, reset}`) goes through once it is in, whichever way
 * it came: its timeline mark gets the answer, its bytes are counted (`url` names the request,
 * for its transfer size), the cursor follows `next` and the log shows the events. Returns the
 * events that were new.
 */
export function takeBatch(answer, { url, bodyBytes, status = 200 }, cursor, log, mark) {
  const count = answer.events?.length ?? 0;
  mark.answer({ status, size: bodyBytes, kind: count ? 'data' : 'empty', text: count ? plural(count, 'event') : '' });
  countTransfer(url, bodyBytes, log, mark);
  cursor.update(answer, log);
  return log.events(answer.events);
}
