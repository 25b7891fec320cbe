// Multipart streaming: the client library pinned to `multipart-streaming`. One answer of
// type multipart/x-mixed-replace carries one JSON part per event; browsers no longer hand
// the parts to scripts, so the library reads the body with fetch and cuts it itself.

import { autostart } from '../lib/demo.js';
import { runPinned } from '../lib/pinned.js';

export function start(log, doc = document) {
  runPinned('multipart-streaming', log, doc);
}

autostart('multipart-streaming', start);
