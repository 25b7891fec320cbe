// What every demo page does before its technique starts: pick the channel (channel.js), wire
// the channel and pattern choosers, connect the log, counters and timeline, and wire the
// "Send an event" control. Returns the log.

import { settings, wireChoosers } from './channel.js';
import { createLog } from './log.js';
import { wireSendButton } from './send.js';

export function startDemo(doc = document) {
  const log = createLog(doc);
  const choosers = wireChoosers(doc);
  // The first answer that brings no event ends a page's quiet start (see wireChoosers).
  const answered = log.answered;
  log.answered = (list) => {
    const fresh = answered(list);
    if (!list.length) choosers.firstEmptyAnswer();
    return fresh;
  };
  wireSendButton(settings().technique || 'this page', log, doc);
  return log;
}

/**
 * Starts `start` on the technique's own page, the one whose settings name `slug`. The lab
 * (/compare) imports the same modules and starts each one itself, inside its block.
 */
export function autostart(slug, start) {
  if (settings().technique === slug) start(startDemo());
}
