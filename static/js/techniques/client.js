// The client library, live: connects to this tab's channel with the transports left ticked,
// and shows every state change and every event as the library reports them.

import { connect } from '../../client/reverse-ajax.js';
import { channel } from '../lib/channel.js';

const MAX_ROWS = 200;

/** Adds a row at the end of `list`, dropping the oldest beyond MAX_ROWS. */
function addRow(list, text, attrs = {}) {
  const item = document.createElement('li');
  item.textContent = text;
  Object.assign(item.dataset, attrs);
  list.append(item);
  while (list.children.length > MAX_ROWS) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function time() {
  return new Date().toISOString().slice(11, 23);
}

export function start(doc = document) {
  const states = doc.getElementById('client-states');
  const events = doc.getElementById('client-events');
  const status = doc.getElementById('client-status');
  const boxes = [...doc.querySelectorAll('#client-transports input[name=transport]')];
  let conn = null;

  function run() {
    conn?.close();
    states.replaceChildren();
    const transports = boxes.filter((b) => b.checked).map((b) => b.value);
    conn = connect(channel(), {
      transports,
      onEvent(event) {
        const text = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
        addRow(events, `${event.id} ${text}`, { id: event.id });
      },
      onReset({ reason, next }) {
        addRow(events, `reset (${reason}): some events may be missing; continuing from ${next}`, { reset: reason });
      },
      onState(state) {
        const cause = state.cause ? ` (${state.cause})` : '';
        const counts = state.fallbacks || state.attempt ? ` [fallbacks ${state.fallbacks}, attempt ${state.attempt}]` : '';
        addRow(states, `${time()} ${state.status} ${state.transport ?? '-'}${counts}${cause}`, { status: state.status });
        status.textContent = `${state.status}${state.transport ? ` over ${state.transport}` : ''}`;
        status.dataset.status = state.status;
        status.dataset.transport = state.status === 'open' ? state.transport : '';
      },
    });
  }

  doc.getElementById('client-connect').addEventListener('click', run);
  doc.getElementById('client-publish').addEventListener('click', async () => {
    try {
      const { id } = await conn.publish(`Hello from the client page at ${new Date().toLocaleTimeString()}`);
      addRow(states, `${time()} published ${id}`);
    } catch (err) {
      addRow(states, `${time()} could not publish: ${err.message}`);
    }
  });
  run();
}

start();
