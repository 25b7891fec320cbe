// JSONP polling: each poll is a new <script> element. The server answers with a call to
// a function we name in the URL; the function receives the data, then both are removed.

import { autostart } from '../lib/demo.js';
import { eventsUrl } from '../lib/channel.js';
import { createCursor, takeBatch } from '../lib/cursor.js';
import { jsonp, jsonpBody } from '../lib/jsonp.js';
import { byteLength, requestLine } from '../lib/log.js';
import { intervalReader, runPolling } from '../lib/poller.js';

export function start(log, doc = document) {
  const cursor = createCursor();

  async function poll() {
    log.client('checking for events...');
    let mark = null;
    const { value: answer, callback, src } = await jsonp(cursor.url(eventsUrl()), {
      namespace: 'jsonp',
      onSend: (url) => {
        mark = log.request(requestLine(url));
      },
    }).catch((err) => {
      mark?.fail(err.message);
      throw err;
    });
    // A script's text is out of the page's reach: rebuild it from what the callback received.
    const body = jsonpBody(callback, answer);
    log.raw(body, `${requestLine(src)} → 200, rebuilt from the value the callback received`);
    takeBatch(answer, { url: src, bodyBytes: byteLength(body) }, cursor, log, mark);
  }

  runPolling({ poll, delay: intervalReader(doc), log });
}

autostart('jsonp-polling', start);
