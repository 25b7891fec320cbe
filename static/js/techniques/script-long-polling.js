// Script-tag long polling: the client library pinned to `script-long-polling`. Each long
// poll is a <script> element the server holds until there is news (or until its cap), then
// answers with a call to the function the library named in the URL.

import { autostart } from '../lib/demo.js';
import { runPinned } from '../lib/pinned.js';

export function start(log, doc = document) {
  runPinned('script-long-polling', log, doc);
}

autostart('script-long-polling', start);
