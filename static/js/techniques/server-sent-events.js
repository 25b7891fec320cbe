// Server-Sent Events: the client library pinned to `server-sent-events`. It reads the
// text/event-stream with fetch (EventSource hides the status of a refusal, the `retry:` delay
// and the heartbeats), and when the stream ends it connects again from the last id it got.

import { autostart } from '../lib/demo.js';
import { runPinned } from '../lib/pinned.js';

export function start(log, doc = document) {
  runPinned('server-sent-events', log, doc);
}

autostart('server-sent-events', start);
