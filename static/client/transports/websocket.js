// WebSocket: one connection, one JSON text frame per event or control
// (`{"type":"hello"|"reset"|"heartbeat"}`). The server's pings are answered by the browser
// unseen, so it also sends a heartbeat frame each beat: the silence rule holds here too. The
// close code says why the server ended it.

import { failure, parse } from '../http.js';

/** Why the server closed, by close code; other codes are failures. */
const ENDS = { 1000: 'closed', 1001: 'shutdown', 1008: 'token_expired', 1013: 'lagged' };

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'websocket',
  supported: (env) => typeof env.WebSocket === 'function',
  open(ctx) {
    const url = ctx.url('ws').replace(/^http/, 'ws');
    ctx.trace('send', url);
    const socket = new ctx.env.WebSocket(url);
    socket.onopen = () => ctx.responded();
    socket.onmessage = (message) => {
      const frame = parse(message.data);
      if (frame && typeof frame === 'object') ctx.frame(frame);
      else ctx.fail(failure('a frame that is not JSON'));
    };
    // An error is always followed by a close, which decides.
    socket.onclose = (close) => {
      const why = ENDS[close.code];
      if (why) ctx.end(why);
      else ctx.fail(failure(`the socket closed (${close.code}${close.reason ? `: ${close.reason}` : ''})`));
    };
    return () => {
      socket.onclose = socket.onmessage = socket.onopen = null;
      socket.close(1000);
    };
  },
};
