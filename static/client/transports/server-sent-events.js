// Server-Sent Events: a `text/event-stream`, read with fetch rather than EventSource. The wire
// format is the same, but EventSource hides what a client needs: the status of a refusal,
// the `retry:` delay, the heartbeat comments, and an Authorization header.

import { parse, readStream } from '../http.js';

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'server-sent-events',
  supported: (env) => typeof env.fetch === 'function' && typeof TextDecoder === 'function',
  open(ctx) {
    const abort = new AbortController();
    let buffer = '';
    let message = { event: '', data: [] };
    let retryMs;
    let ended = false;

    const dispatch = ({ event, data }) => {
      const value = parse(data.join('\n'));
      if (event === 'shutdown') {
        ended = true;
        return ctx.end('shutdown', retryMs);
      }
      if (!event || event === 'message') return ctx.frame(value);
      if (event === 'end') ended = true;
      ctx.frame({ ...value, type: event });
    };

    const onText = (text) => {
      buffer += text;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === '') {
          if (message.data.length || message.event) dispatch(message);
          message = { event: '', data: [] };
          if (ended) return false;
          continue;
        }
        const colon = line.indexOf(':');
        if (colon === 0) continue; // a comment: the heartbeat
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') message.event = value;
        else if (field === 'data') message.data.push(value);
        else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
      }
      return true;
    };

    readStream(ctx, ctx.url('sse', 'last_event_id'), 'text/event-stream', abort, onText).then((done) => {
      // The server closes a stream after a budget, or when the client lagged, with only a
      // comment: come back from the last id.
      if (done && !ended) ctx.end('closed');
    });
    return () => abort.abort();
  },
};
