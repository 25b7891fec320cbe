// Forever iframe: the client library pinned to `forever-iframe`. A hidden iframe loads a
// document that never finishes; each event arrives as one more <script> in it, calling into
// this page. The server ends the document after a byte budget; the library then loads a
// fresh one from the last id, so nothing is lost.

import { autostart } from '../lib/demo.js';
import { runPinned } from '../lib/pinned.js';

export function start(log, doc = document) {
  runPinned('forever-iframe', log, doc);
}

autostart('forever-iframe', start);
