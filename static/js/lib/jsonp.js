// The JSONP loader of the postal-code lookup (Listing 1, /postal-code): a request is a
// <script> element whose URL names a function of ours in `callback=`, and the server answers
// with a script that calls it. It is not a push client: the JSONP transports of the client
// library (static/client/transports/jsonp.js) carry the events; this one fills in a form.
//
// Callbacks live under one global object per use, so the name sent is, for example,
// `ReverseAjax.jsonp.cb7`. A script element tells us nothing about status codes: it runs, or
// it fires `error`. A late answer (after a timeout or an abandon) still finds a harmless
// function to call, so it never raises a ReferenceError.

const registry = (window.ReverseAjax ??= {});
let counter = 0;

/**
 * Loads `url` as a script; resolves with `{ value, callback, src }`: what the server passed to
 * the callback, the callback's full name and the URL that was loaded.
 * `namespace` groups the callbacks (`ReverseAjax.<namespace>.cbN`), `timeoutMs` gives up,
 * `signal` abandons, and `onSend(src)` hears the URL as the request leaves.
 */
export function jsonp(url, { namespace = 'jsonp', timeoutMs = 10000, signal = null, onSend = () => {} } = {}) {
  const callbacks = (registry[namespace] ??= {});
  return new Promise((resolve, reject) => {
    const name = `cb${++counter}`;
    const callback = `ReverseAjax.${namespace}.${name}`;
    const script = document.createElement('script');
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abandon);
      script.remove();
      // A late answer may still run; leave it a harmless function to call.
      callbacks[name] = () => delete callbacks[name];
    };
    const fail = (message) => {
      finish();
      reject(new Error(message));
    };
    const abandon = () => fail('abandoned');
    const timer = setTimeout(() => fail(`no answer within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
    signal?.addEventListener('abort', abandon);

    callbacks[name] = (value) => {
      finish();
      delete callbacks[name];
      resolve({ value, callback, src: script.src });
    };
    script.onerror = () => fail('the script failed to load (refused or unreachable)');
    // A script from another origin loads in no-cors mode, and Resource Timing then reports
    // its size as 0: the lab (/compare) could only count the body it rebuilt, without the
    // headers. Loaded in CORS mode instead, the answer's Timing-Allow-Origin (which this
    // server sends to its own other names, src/access/cors.rs) lets the browser report the
    // real transfer size. A server that sends no CORS headers would make such a script
    // fail, so only cross-origin loads ask for it; same-origin ones need nothing.
    if (new URL(url, location.href).origin !== location.origin) script.crossOrigin = 'anonymous';
    script.src = `${url}${url.includes('?') ? '&' : '?'}callback=${callback}`;
    onSend(script.src);
    document.head.append(script);
  });
}

/** The body the server sent, rebuilt from what reached the callback: `/**\/name(json);`. */
export function jsonpBody(callback, value) {
  return `/**/${callback}(${JSON.stringify(value)});`;
}
