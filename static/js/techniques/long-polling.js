// XHR long polling: the client library pinned to `long-polling`. The server holds each
// request until there is news (or until its cap), and the library asks again the moment the
// answer is in; its first request is a plain poll, answered at once.

import { autostart } from '../lib/demo.js';
import { runPinned } from '../lib/pinned.js';

export function start(log, doc = document) {
  runPinned('long-polling', log, doc);
}

autostart('long-polling', start);
