// The browser tests' page: connects with the settings in its query and records everything
// the client reports in `window.seen`, for the test to read.
//   ?channel=<name>&transports=a,b&open=<ms>&cap=<ms>

import { connect } from '../reverse-ajax.js';

const query = new URLSearchParams(location.search);
const seen = { events: [], resets: [], states: [], status: '', transport: null, firstEventMs: null };
window.seen = seen;
const options = {
  onEvent(event) {
    seen.events.push(event.id);
    seen.firstEventMs ??= performance.now();
  },
  onReset: (info) => seen.resets.push(info),
  onState(state) {
    seen.states.push(state);
    seen.status = state.status;
    seen.transport = state.status === 'open' ? state.transport : null;
  },
};
if (query.get('transports')) options.transports = query.get('transports').split(',');
if (query.get('open')) options.openTimeoutMs = Number(query.get('open'));
if (query.get('cap')) options.longPollCapMs = Number(query.get('cap'));
window.conn = connect(query.get('channel') ?? 'demo', options);
