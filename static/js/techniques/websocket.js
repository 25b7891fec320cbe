// WebSocket: one connection that carries events both ways. The server sends each event as
// a text frame holding its envelope; whatever we send is published to the channel, so
// every page on it (another tab, say) receives it.
//
// Chat messages go up as `{"chat":"…","from":"<this tab's name>"}`; the server publishes the
// text as it is, and every page on the channel shows it in the chat, apart from the ticker.

import { autostart } from '../lib/demo.js';
import { pushUrl } from '../lib/channel.js';
import { createCursor } from '../lib/cursor.js';
import { byteLength, chatOf, requestLine } from '../lib/log.js';
import { keepConnected, wireReconnectButton } from '../lib/stream.js';
import { UPGRADE_HEADERS, wsFrameBytes } from '../lib/wire.js';

// Why the server closed, by close code.
const CLOSE_REASONS = {
  1001: 'shutdown',
  1013: 'lagged',
};

const ANIMALS = ['Otter', 'Heron', 'Lynx', 'Badger', 'Wren', 'Marten', 'Ibis', 'Stoat', 'Puffin', 'Vole'];

/** A name for this tab, kept in sessionStorage: each tab has its own, a reload keeps it. */
function tabName() {
  try {
    let name = sessionStorage.getItem('ra-tab-name');
    if (!name) {
      const [a, b] = crypto.getRandomValues(new Uint8Array(2));
      name = `${ANIMALS[a % ANIMALS.length]} ${10 + (b % 90)}`;
      sessionStorage.setItem('ra-tab-name', name);
    }
    return name;
  } catch {
    return 'This tab';
  }
}

/** `ws://host/push/<channel>/ws?since=…`, or `wss:` when the page came over https. */
function socketUrl(cursor) {
  const url = new URL(cursor.url(pushUrl('ws')), location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

export function start(log, doc = document) {
  const cursor = createCursor();
  const me = tabName();
  let socket = null; // the open socket, for the chat box
  let session = null; // its connection

  function open(connection) {
    const url = socketUrl(cursor);
    const ws = new WebSocket(url);
    let opened = false;
    connection.begin(`${requestLine(url)} (Upgrade: websocket)`, { pipe: true });

    ws.addEventListener('open', () => {
      opened = true;
      socket = ws;
      session = connection;
      log.bytes(UPGRADE_HEADERS);
      connection.mark?.answer({ status: 101, size: UPGRADE_HEADERS, kind: 'upgrade', text: 'Switching Protocols' });
      connection.opened();
    });

    ws.addEventListener('message', (message) => {
      if (!connection.live) return; // a socket we are closing
      connection.alive();
      const size = wsFrameBytes(byteLength(message.data));
      log.bytes(size);
      log.frame();
      log.raw(message.data, `the last text frame from the server (${byteLength(message.data)} B of payload)`);
      const frame = JSON.parse(message.data);
      // Control frames (the opening `hello`, a `reset`, a `heartbeat`) have a type; envelopes
      // have none.
      connection.mark?.push({ text: frame.type ?? 'frame', size, detail: 'text frame' });
      if (frame.type === 'reset') {
        cursor.update({ reset: true, next: frame.next, reset_reason: frame.reason }, log);
      } else if (frame.id && log.event(frame)) {
        cursor.update({ next: frame.id });
      }
    });

    // A close always follows an error, so the close handler decides what happens next.
    ws.addEventListener('close', (close) => {
      if (socket === ws) socket = null;
      const why = CLOSE_REASONS[close.code];
      if (why) {
        connection.ended(why);
      } else if (!opened) {
        connection.failed('the connection was refused');
      } else {
        const reason = close.reason ? `: ${close.reason}` : '';
        connection.failed(`the connection closed (code ${close.code}${reason})`);
      }
    });

    return () => {
      if (socket === ws) socket = null;
      ws.close(1000, 'reconnecting');
    };
  }

  // The chat, apart from the log: who said what, this tab's own messages marked.
  const chatList = doc.getElementById('chat-log');
  const nameLabel = doc.getElementById('tab-name');
  if (nameLabel) nameLabel.textContent = me;
  log.onEvent = (event) => {
    const chat = chatOf(event);
    if (!chat || !chatList) return;
    const item = doc.createElement('li');
    item.dataset.id = event.id;
    if (chat.from === me) item.className = 'mine';
    const from = doc.createElement('span');
    from.className = 'from';
    from.textContent = `${chat.from}:`;
    const text = doc.createElement('span');
    text.className = 'text';
    text.textContent = chat.text;
    item.append(from, text);
    chatList.append(item);
    chatList.scrollTop = chatList.scrollHeight;
  };

  const stream = keepConnected({ open, log, cursor });
  wireReconnectButton(stream.reconnect, doc);

  // The chat box: a message goes up the same socket and comes back as an event.
  const form = doc.getElementById('ws-chat');
  const input = doc.getElementById('ws-message');
  form?.addEventListener('submit', (submit) => {
    submit.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      log.error('not connected; the message was not sent');
      return;
    }
    const payload = JSON.stringify({ chat: text, from: me });
    socket.send(payload);
    session?.mark?.send({ text: 'chat', size: byteLength(payload) + 6, detail: `text frame up: ${payload}` });
    log.client(`sent “${text}” over the socket`);
    input.value = '';
  });
}

autostart('websocket', start);
