// JSONP polling: each poll is a new <script> element. The server answers with a call to
// a function we name in the URL; the function receives the data, then both are removed.

import { createLog, byteLength } from '../lib/log.js';
import { createCursor } from '../lib/cursor.js';
import { intervalReader, runPolling } from '../lib/poller.js';
import { wireSendButton } from '../lib/send.js';

const TIMEOUT_MS = 10000; // a script that neither runs nor fails within this is given up

// Callbacks live under one global object, so the name we send is `ReverseAjax.jsonp.cb7`.
const callbacks = ((window.ReverseAjax ??= {}).jsonp ??= {});
let counter = 0;

/** Loads `url` as a script and resolves with what the server passes to the callback. */
function jsonp(url) {
  return new Promise((resolve, reject) => {
    const name = `cb${++counter}`;
    const script = document.createElement('script');
    const cleanup = () => {
      clearTimeout(timer);
      script.remove();
    };
    const timer = setTimeout(() => {
      cleanup();
      // The script may still arrive later; leave it a harmless function to call.
      callbacks[name] = () => delete callbacks[name];
      reject(new Error('no answer within 10 s'));
    }, TIMEOUT_MS);

    callbacks[name] = (payload) => {
      cleanup();
      delete callbacks[name];
      resolve(payload);
    };
    // A script element tells us nothing about status codes: it runs, or it fails.
    script.onerror = () => {
      cleanup();
      delete callbacks[name];
      reject(new Error('the script failed to load'));
    };
    script.src = `${url}${url.includes('?') ? '&' : '?'}callback=ReverseAjax.jsonp.${name}`;
    document.head.append(script);
  });
}

export function start(log) {
  const cursor = createCursor();

  async function poll() {
    log.client('checking for events...');
    log.request();
    const answer = await jsonp(cursor.url('api/channels/demo/events'));
    // The script's text is out of reach, so estimate its size from the data it carried.
    log.bytes(byteLength(JSON.stringify(answer)));
    cursor.update(answer, log);
    log.events(answer.events);
  }

  runPolling({ poll, delay: intervalReader(), log });
  wireSendButton('jsonp-polling', log);
}

start(createLog());
