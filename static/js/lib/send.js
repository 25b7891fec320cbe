// The "Send an event" button: publishes a short text to the demo channel, so that every
// open page (this one included) receives it through its own technique.

export function wireSendButton(slug, log, doc = document) {
  const button = doc.getElementById('send-event');
  if (!button) return;
  button.addEventListener('click', async () => {
    const text = `Hello from ${slug} at ${new Date().toLocaleTimeString()}`;
    button.disabled = true;
    try {
      const res = await fetch('api/channels/demo/events', {
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
  });
}
