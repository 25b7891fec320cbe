// JSONP polling: the client library pinned to `jsonp-polling`. Each poll is a new <script>
// element; the server answers with a call to a function the library names in the URL, which
// receives the data, and then both are removed.

import { autostart } from '../lib/demo.js';
import { runPinned } from '../lib/pinned.js';

export function start(log, doc = document) {
  runPinned('jsonp-polling', log, doc);
}

autostart('jsonp-polling', start);
