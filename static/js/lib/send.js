// The "Send an event" control: publishes the text in the box beside it (or a greeting when the
// box is empty) to this tab's channel, so that every page on the channel, this one included,
// receives it through its own technique. The preset button fills in a text that tries to
// break out of a script element and run markup; it must show up as plain text everywhere.

import { eventsUrl } from './channel.js';

/** The text the preset fills in: it closes a script element and adds an image with a handler. */
export const BREAKOUT = '</script><img src=x onerror=alert(1)>';

export function wireSendButton(slug, log, doc = document) {
  const button = doc.getElementById('send-event');
  if (!button) return;
  const box = doc.getElementById('event-text');
  doc.getElementById('event-preset')?.addEventListener('click', () => {
    if (!box) return;
    box.value = BREAKOUT;
    box.focus();
  });
  const send = async () => {
    const typed = box?.value ?? '';
    const text = typed.trim() ? typed : `Hello from ${slug} at ${new Date().toLocaleTimeString()}`;
    button.disabled = true;
    try {
      const res = await fetch(eventsUrl(), {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        body: text,
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
      log.client(`sent event ${body.id}`);
    } catch (err) {
      log.error(`could not send the event: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener('click', send);
  box?.addEventListener('keydown', (key) => {
    if (key.key === 'Enter') {
      key.preventDefault();
      send();
    }
  });
}
