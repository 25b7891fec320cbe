// Bytes on the wire, headers included.
//
// Measured: for a request that completes (a fetch, a JSONP or long-poll <script>), the
// browser's Resource Timing entry gives `transferSize`: the response's body as it came over
// the network plus a flat 300 bytes that the standard counts for the headers (browsers do not
// reveal the real header size; this server's are about 550 bytes). Our pages and API share
// an origin, so the browser reports it without a `Timing-Allow-Origin` header.
//
// Estimated: a stream that is still open (the forever iframe, multipart, Server-Sent Events)
// has no entry until it ends, and a WebSocket never gets one. For those the pages count the
// body bytes as they arrive and add estimates of what they cannot see:
//   - the response headers, once per connection (RESPONSE_HEADERS below, close to what this
//     server sends: status line, content type, cache and security headers);
//   - chunked transfer coding, per piece of body that arrives (CHUNK_FRAMING: the size in hex
//     and two line ends);
//   - for a WebSocket: the 101 answer to the handshake once, and 2 bytes of frame header per
//     frame under 126 bytes (4 up to 64 KiB). Pings and pongs are answered by the browser
//     itself and never seen by the page, so they are left out.

/** An estimate of a response's status line and headers from this server, in bytes. */
export const RESPONSE_HEADERS = 560;
/** The `101 Switching Protocols` answer to a WebSocket handshake, in bytes. */
export const UPGRADE_HEADERS = 590;
/** Chunked transfer coding around one piece of body, in bytes. */
export const CHUNK_FRAMING = 7;

const encoder = new TextEncoder();

/** The size of a string in bytes once encoded as UTF-8. */
export function byteLength(text) {
  return encoder.encode(text).length;
}

/** A server-to-client WebSocket frame carrying `payloadBytes`, header included. */
export function wsFrameBytes(payloadBytes) {
  if (payloadBytes < 126) return payloadBytes + 2;
  if (payloadBytes < 65536) return payloadBytes + 4;
  return payloadBytes + 10;
}

// Resource Timing entries that no request has claimed yet, by URL, oldest first.
const unclaimed = new Map();
// Requests waiting for their entry, by URL, oldest first.
const waiting = new Map();

function take(map, name) {
  const queue = map.get(name);
  if (!queue?.length) return undefined;
  const first = queue.shift();
  if (!queue.length) map.delete(name);
  return first;
}

function put(map, name, value) {
  if (!map.has(name)) map.set(name, []);
  map.get(name).push(value);
}

function deliver(entry) {
  const claim = take(waiting, entry.name);
  if (claim) claim(entry);
  else {
    put(unclaimed, entry.name, entry);
    // Nobody asked for it (a stylesheet, say): do not keep it forever.
    setTimeout(() => {
      const queue = unclaimed.get(entry.name);
      const at = queue?.indexOf(entry) ?? -1;
      if (at >= 0) queue.splice(at, 1);
      if (queue && !queue.length) unclaimed.delete(entry.name);
    }, 30000);
  }
}

if (typeof PerformanceObserver !== 'undefined') {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) deliver(entry);
  }).observe({ type: 'resource', buffered: true });
  // The observer sees every entry; the buffer is not needed and would fill up on a long visit.
  performance.addEventListener?.('resourcetimingbufferfull', () => performance.clearResourceTimings());
}

/**
 * Resolves with the transfer size of the next completed request to `url` (absolute or
 * relative to the page), or with null if the browser reports none within `waitMs`.
 * Call it before or after the request ends; requests to one URL are matched in order.
 */
export function transferSize(url, waitMs = 2000) {
  const name = new URL(url, location.href).href;
  return new Promise((resolve) => {
    let timer = null;
    const settle = (entry) => {
      clearTimeout(timer);
      // 0 means served from a cache, or a size the browser keeps to itself.
      resolve(entry && entry.transferSize > 0 ? entry.transferSize : null);
    };
    const ready = take(unclaimed, name);
    if (ready) {
      settle(ready);
      return;
    }
    put(waiting, name, settle);
    timer = setTimeout(() => {
      const queue = waiting.get(name);
      const at = queue?.indexOf(settle) ?? -1;
      if (at >= 0) queue.splice(at, 1);
      if (queue && !queue.length) waiting.delete(name);
      resolve(null);
    }, waitMs);
  });
}

/**
 * Counts the bytes of a completed request on the wire: the browser's measured transfer size
 * (headers included) when it reports one, else the body's size. Updates the mark's tooltip.
 */
export async function countTransfer(url, bodyBytes, log, mark) {
  const measured = await transferSize(url);
  log.bytes(measured ?? bodyBytes);
  mark?.describe(measured === null ? ' (body only: no measurement)' : ` (${measured} B with headers)`);
  return measured;
}
