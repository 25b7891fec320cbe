// WebSocket: one connection that carries events both ways. The server sends each event as
// a text frame holding its envelope; whatever we send is published to the channel, so
// every page on it (another tab, say) receives it.

import { createLog, byteLength } from '../lib/log.js';
import { createCursor } from '../lib/cursor.js';
import { keepConnected, wireReconnectButton } from '../lib/stream.js';
import { wireSendButton } from '../lib/send.js';

// Why the server closed, by close code.
const CLOSE_REASONS = {
  1001: 'shutdown',
  1013: 'lagged',
};

/** `ws://host/…/push/demo/ws?since=…`, or `wss:` when the page came over https. */
function socketUrl(cursor) {
  const url = new URL(cursor.url('push/demo/ws'), location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

export function start(log) {
  const cursor = createCursor();
  let socket = null; // the open socket, for the chat box

  function open(session) {
    const ws = new WebSocket(socketUrl(cursor));
    let opened = false;

    ws.addEventListener('open', () => {
      opened = true;
      socket = ws;
      session.opened();
    });

    ws.addEventListener('message', (message) => {
      if (!session.live) return; // a socket we are closing
      session.alive();
      log.bytes(byteLength(message.data));
      const frame = JSON.parse(message.data);
      if (frame.type === 'reset') {
        cursor.update({ reset: true, next: frame.next }, log);
      } else if (frame.id && log.event(frame)) {
        cursor.update({ next: frame.id });
      }
    });

    // A close always follows an error, so the close handler decides what happens next.
    ws.addEventListener('close', (close) => {
      if (socket === ws) socket = null;
      const why = CLOSE_REASONS[close.code];
      if (why) {
        session.ended(why);
      } else if (!opened) {
        session.failed('the connection was refused');
      } else {
        const reason = close.reason ? `: ${close.reason}` : '';
        session.failed(`the connection closed (code ${close.code}${reason})`);
      }
    });

    return () => {
      if (socket === ws) socket = null;
      ws.close(1000, 'reconnecting');
    };
  }

  const stream = keepConnected({ open, log, cursor });
  wireReconnectButton(stream.reconnect);
  wireSendButton('websocket', log);

  // The chat box: a message goes up the same socket and comes back as an event.
  const form = document.getElementById('ws-chat');
  const input = document.getElementById('ws-message');
  form?.addEventListener('submit', (submit) => {
    submit.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      log.error('not connected; the message was not sent');
      return;
    }
    socket.send(text);
    log.client(`sent “${text}” over the socket`);
    input.value = '';
  });
}

start(createLog());
