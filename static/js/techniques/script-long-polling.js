// Script-tag long polling: each long poll is a <script> element. The server holds it until
// there is news (or until its cap), then answers with a call to the function we named in
// the URL. That function removes the element before the next one is added.

import { createLog, byteLength } from '../lib/log.js';
import { createCursor } from '../lib/cursor.js';
import { runLongPolling } from '../lib/long-poll.js';
import { whenLoaded, wireReconnectButton } from '../lib/stream.js';
import { wireSendButton } from '../lib/send.js';

// The server's cap is 25 s by default; a script with no answer 10 s after that is given up.
const TIMEOUT_MS = 35000;

// Callbacks live under one global object, so the name we send is `ReverseAjax.longPoll.cb7`.
const callbacks = ((window.ReverseAjax ??= {}).longPoll ??= {});
let counter = 0;

/** Loads `url` as a script; resolves with what the server passes to the callback. */
function scriptRequest(url, signal) {
  return new Promise((resolve, reject) => {
    const name = `cb${++counter}`;
    const script = document.createElement('script');
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abandon);
      script.remove();
      // A late answer may still run; leave it a harmless function to call.
      callbacks[name] = () => delete callbacks[name];
    };
    const fail = (message) => {
      finish();
      reject(new Error(message));
    };
    const abandon = () => fail('abandoned');
    const timer = setTimeout(() => fail(`no answer within ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);
    signal.addEventListener('abort', abandon);

    callbacks[name] = (payload) => {
      finish();
      delete callbacks[name];
      resolve(payload);
    };
    // A script element has no status code: it runs, or it fires `error`.
    script.onerror = () => fail('the script failed to load');
    script.src = `${url}${url.includes('?') ? '&' : '?'}callback=ReverseAjax.longPoll.${name}`;
    document.head.append(script);
  });
}

export function start(log) {
  const cursor = createCursor();

  async function poll(signal) {
    log.client('waiting for events...');
    log.request();
    const answer = await scriptRequest(cursor.url('push/demo/script'), signal);
    // The script's text is out of reach, so estimate its size from the data it carried.
    log.bytes(byteLength(JSON.stringify(answer)));
    cursor.update(answer, log);
    log.events(answer.events);
  }

  wireSendButton('script-long-polling', log);
  whenLoaded(() => {
    const polling = runLongPolling({ poll, log });
    wireReconnectButton(() => {
      log.client(`abandoning the script in flight; resuming from ${cursor.since ?? 'now'}`);
      polling.reconnect();
    });
  });
}

start(createLog());
