// Multipart streaming: one `multipart/x-mixed-replace` answer, one JSON part per event or
// control. Browsers no longer split the parts for scripts, so we cut the body ourselves.

import { failure, parse, readStream } from '../http.js';

/** @type {import('../reverse-ajax.js').Transport} */
export default {
  name: 'multipart-streaming',
  supported: (env) => typeof env.fetch === 'function' && typeof TextDecoder === 'function',
  open(ctx) {
    const abort = new AbortController();
    let buffer = '';
    let ended = false;

    // A part is `--BOUNDARY\r\n<headers>\r\n\r\n<JSON>\r\n`. Its end is only certain when the
    // next delimiter comes, so a body that already parses as JSON up to a line break is taken.
    const onText = (text) => {
      buffer += text;
      for (;;) {
        const head = /--([^\r\n]+?)(--)?\r\n/.exec(buffer);
        if (!head) return true;
        if (head[2]) return false; // the closing delimiter
        const bodyStart = buffer.indexOf('\r\n\r\n', head.index);
        if (bodyStart < 0) return true;
        const next = buffer.indexOf(`\r\n--${head[1]}`, bodyStart + 4);
        const end = next >= 0 ? next : buffer.lastIndexOf('\r\n');
        const value = end > bodyStart ? parse(buffer.slice(bodyStart + 4, end)) : undefined;
        if (value === undefined) return true;
        buffer = buffer.slice(end + 2);
        if (value.type === 'end') ended = true;
        ctx.frame(value);
        if (ended) return false;
      }
    };

    readStream(ctx, ctx.url('multipart'), 'multipart/x-mixed-replace', abort, onText).then((done) => {
      if (done && !ended) ctx.fail(failure('the stream stopped without an end part'));
    });
    return () => abort.abort();
  },
};
