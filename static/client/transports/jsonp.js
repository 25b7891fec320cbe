// JSONP: a request is a <script> whose URL names a function of ours in `callback=`; the
// server answers with a script that calls it. A script tells nothing of status codes: it runs
// or it fails to load. A late answer (after an abandon) still finds a harmless function.

import { failure } from '../http.js';
import { appendLater } from './forever-iframe.js';

let counter = 0;

/**
 * Loads `url` as a script; `answer` resolves with the value the server passed to the callback.
 * @returns {{answer: Promise<object>, abort: () => void}}
 */
export function jsonp(ctx, url) {
  const { window: win, document: doc } = ctx.env;
  const callbacks = (win.ReverseAjaxClient ??= {});
  const name = `c${++counter}`;
  const script = doc.createElement('script');
  let reject;
  const finish = () => {
    script.remove();
    callbacks[name] = () => delete callbacks[name];
  };
  const answer = new Promise((resolve, fail) => {
    reject = fail;
    callbacks[name] = (value) => {
      finish();
      delete callbacks[name];
      resolve(value);
    };
    script.onerror = () => {
      finish();
      fail(failure('the script failed to load'));
    };
  });
  script.src = `${url}${url.includes('?') ? '&' : '?'}callback=ReverseAjaxClient.${name}`;
  appendLater(ctx, 'head', script, () => callbacks[name]);
  return {
    answer,
    abort() {
      finish();
      reject(failure('abandoned'));
    },
  };
}

/** True where scripts can be added to the page. */
export const canLoadScripts = (env) => Boolean(env.document && env.window);
