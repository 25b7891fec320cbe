// WebSocket: the client library pinned to `websocket`. One connection carries the events:
// the server sends each as a text frame holding its envelope, after a `hello` frame.
//
// Chat messages are published as the text `{"chat":"…","from":"<this tab's name>"}` (with
// the library's `publish`); every page on the channel shows them in the chat, apart from the
// ticker.

import { autostart } from '../lib/demo.js';
import { chatOf } from '../lib/log.js';
import { runPinned } from '../lib/pinned.js';

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

export function start(log, doc = document) {
  const me = tabName();
  const demo = runPinned('websocket', log, doc);

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

  // The chat box: a message is published with the library's `publish`, and comes back down
  // the socket as an event, to this tab and every other one on the channel.
  const form = doc.getElementById('ws-chat');
  const input = doc.getElementById('ws-message');
  form?.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    try {
      // The event's data is this text, so every page shows it as a chat line.
      const { id } = await demo.conn.publish(JSON.stringify({ chat: text, from: me }));
      log.client(`sent “${text}” as event ${id}`);
    } catch (err) {
      log.error(`the message was not sent: ${err.message}`);
      input.value = text;
    }
  });
}

autostart('websocket', start);
