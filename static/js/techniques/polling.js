// HTTP polling: the client library pinned to `polling`. It asks the server for news with
// fetch, waits the interval, and asks again; the server answers at once, usually with no
// events. lib/pinned.js shows what it does.

import { autostart } from '../lib/demo.js';
import { runPinned } from '../lib/pinned.js';

export function start(log, doc = document) {
  runPinned('polling', log, doc);
}

autostart('polling', start);
