// Script-tag long polling: each long poll is a <script> element. The server holds it until
// there is news (or until its cap), then answers with a call to the function we named in
// the URL. That function removes the element before the next one is added.

import { autostart } from '../lib/demo.js';
import { pushUrl } from '../lib/channel.js';
import { createCursor, takeBatch } from '../lib/cursor.js';
import { jsonp, jsonpBody } from '../lib/jsonp.js';
import { runLongPolling } from '../lib/long-poll.js';
import { byteLength, requestLine } from '../lib/log.js';
import { whenLoaded, wireReconnectButton } from '../lib/stream.js';

// The server's cap is 25 s by default; a script with no answer 10 s after that is given up.
const TIMEOUT_MS = 35000;

export function start(log, doc = document) {
  const cursor = createCursor();

  async function poll(signal) {
    log.client('waiting for events...');
    let mark = null;
    // Callbacks are named `ReverseAjax.longPoll.cb7`.
    const { value: answer, callback, src } = await jsonp(cursor.url(pushUrl('script')), {
      namespace: 'longPoll',
      timeoutMs: TIMEOUT_MS,
      signal,
      onSend: (url) => {
        mark = log.request(requestLine(url), { held: true });
      },
    }).catch((err) => {
      if (signal.aborted) mark?.end('abandoned');
      else mark?.fail(err.message);
      throw err;
    });
    const body = jsonpBody(callback, answer);
    log.raw(body, `${requestLine(src)} → 200, rebuilt from the value the callback received`);
    takeBatch(answer, { url: src, bodyBytes: byteLength(body) }, cursor, log, mark);
  }

  whenLoaded(() => {
    const polling = runLongPolling({ poll, log });
    wireReconnectButton(() => {
      log.client(`abandoning the script in flight; resuming from ${cursor.since ?? 'now'}`);
      polling.reconnect();
    });
  });
}

autostart('script-long-polling', start);
