// Piggyback polling: no request ever goes out just for events. They come back on the
// answer to the registration form, next to the form's own result, and the page hands that
// answer to the client library (pinned to `piggyback`) with `conn.absorb(answer)`: the
// library keeps the cursor, drops duplicates and delivers the events.

import { autostart } from '../lib/demo.js';
import { channel } from '../lib/channel.js';
import { toLocalTime } from '../lib/clock.js';
import { byteLength, requestLine } from '../lib/log.js';
import { runPinned } from '../lib/pinned.js';
import { countTransfer } from '../lib/wire.js';

/**
 * Puts the server's message for each field next to its input, clears the others, and
 * returns the first input (in the form's order) that has a message.
 */
function showFieldErrors(form, errors) {
  let first = null;
  for (const span of form.querySelectorAll('.field-error')) {
    const field = span.dataset.field;
    const message = errors[field] || '';
    span.textContent = message;
    const input = form.elements.namedItem(field);
    if (!input) continue;
    input.setAttribute('aria-invalid', message ? 'true' : 'false');
    if (message && !first) first = input;
  }
  return first;
}

export function start(log, doc = document) {
  const form = doc.getElementById('register');
  const result = doc.getElementById('form-result');
  const button = form.querySelector('button[type="submit"]');
  const demo = runPinned('piggyback', log, doc);
  // Each event waited on the server from the moment it was published until the answer that
  // took it along arrived.
  let arrived = 0;
  log.onEvent = (event) => {
    const at = toLocalTime(event.at);
    if (at !== null) log.timeline.wait({ at, until: arrived, id: event.id });
  };
  // A form marked `data-draft` (the lab's, sent every few seconds) reports its saves, not a
  // registration each time.
  let saves = 0;

  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    if (demo.conn.cursor) body.set('since', demo.conn.cursor);
    log.client('sending the form...');
    // The form's route has no channel in its path: it reads `?channel=`.
    const url = `/piggyback?channel=${encodeURIComponent(channel())}`;
    const mark = log.request(requestLine(url, 'POST'));
    button.disabled = true;
    try {
      // URLSearchParams is sent as application/x-www-form-urlencoded.
      const res = await fetch(url, { method: 'POST', body });
      const text = await res.text();
      const bodyBytes = byteLength(text);
      log.raw(text, `${requestLine(url, 'POST')} → ${res.status} ${res.statusText}, ${bodyBytes} B of body`);
      countTransfer(url, bodyBytes, log, mark);
      const answer = JSON.parse(text);
      if (!res.ok) {
        mark.answer({ status: res.status, size: bodyBytes, text: 'error' });
        throw new Error(answer.error || `the server answered ${res.status}`);
      }
      const count = answer.events?.length ?? 0;
      mark.answer({ status: res.status, size: bodyBytes, kind: count ? 'data' : 'empty', text: count ? `${count} event${count === 1 ? '' : 's'}` : '' });

      // First half of the answer: the form.
      log.server(`form valid? ${answer.form.valid}`);
      const invalid = showFieldErrors(form, answer.form.errors || {});
      saves += 1;
      result.textContent = !answer.form.valid
        ? 'Please correct the marked fields.'
        : form.dataset.draft !== undefined
          ? `Draft saved ${saves} time${saves === 1 ? '' : 's'}; ${count} event${count === 1 ? '' : 's'} rode on the last answer.`
          : answer.form.message || 'Registered.';
      result.className = answer.form.valid ? 'ok' : 'bad';
      // After a refusal, take the reader to the first field to fix.
      invalid?.focus();

      // Second half: whatever happened since the last answer. The library keeps the cursor
      // (sent as `since` above), drops duplicates and hands each new event to the log.
      arrived = Date.now();
      log.answered(answer.events ?? []);
      demo.conn.absorb(answer);
    } catch (err) {
      log.error(`the form could not be sent: ${err.message}`);
      result.textContent = 'The form could not be sent; please try again.';
      result.className = 'bad';
    } finally {
      button.disabled = false;
    }
  });
}

autostart('piggyback', start);
