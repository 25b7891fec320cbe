// What every demo page does before its technique starts: pick the channel (channel.js), wire
// the channel and pattern choosers, connect the log, counters and timeline, and wire the
// "Send an event" control. Returns the log.

import { settings, wireChoosers } from './channel.js';
import { createLog } from './log.js';
import { wireSendButton } from './send.js';

export function startDemo(doc = document) {
  const log = createLog(doc);
  wireChoosers(doc);
  wireSendButton(settings().technique || 'this page', log, doc);
  return log;
}
