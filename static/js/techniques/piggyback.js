// Piggyback polling: no request ever goes out just for events. They come back on the
// answer to the registration form, next to the form's own result.

import { createLog, byteLength } from '../lib/log.js';
import { createCursor } from '../lib/cursor.js';
import { wireSendButton } from '../lib/send.js';

/** Puts the server's message for each field next to its input, and clears the others. */
function showFieldErrors(form, errors) {
  for (const span of form.querySelectorAll('.field-error')) {
    const field = span.dataset.field;
    const message = errors[field] || '';
    span.textContent = message;
    const input = form.elements.namedItem(field);
    if (input) input.setAttribute('aria-invalid', message ? 'true' : 'false');
  }
}

export function start(log) {
  const form = document.getElementById('register');
  const result = document.getElementById('form-result');
  const button = form.querySelector('button[type="submit"]');
  const cursor = createCursor();

  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    if (cursor.since) body.set('since', cursor.since);
    log.client('sending the form...');
    log.request();
    button.disabled = true;
    try {
      // URLSearchParams is sent as application/x-www-form-urlencoded.
      const res = await fetch('piggyback', { method: 'POST', body });
      const text = await res.text();
      log.bytes(byteLength(text));
      const answer = JSON.parse(text);
      if (!res.ok) throw new Error(answer.error || `the server answered ${res.status}`);

      // First half of the answer: the form.
      log.server(`form valid? ${answer.form.valid}`);
      showFieldErrors(form, answer.form.errors || {});
      result.textContent = answer.form.valid
        ? answer.form.message || 'Registered.'
        : 'Please correct the marked fields.';
      result.className = answer.form.valid ? 'ok' : 'bad';

      // Second half: whatever happened since the last answer.
      cursor.update(answer, log);
      log.events(answer.events);
    } catch (err) {
      log.error(`the form could not be sent: ${err.message}`);
      result.textContent = 'The form could not be sent; please try again.';
      result.className = 'bad';
    } finally {
      button.disabled = false;
    }
  });

  wireSendButton('piggyback', log);
}

start(createLog());
