// The live request timeline: what this page really sent and received, drawn as it happens in
// the same picture language as the static timelines above it (templates/macros.html.tera):
// a Browser lane and a Server lane, time running left to right, request arrows going down,
// answers coming up (dashed when empty, solid blue when they carry events), events as
// diamonds on the server lane, requests the server holds as bars, pushes up an open stream
// as blue arrows, and for a WebSocket the handshake, the open connection and frames both ways.
//
// The SVG is drawn at one unit per CSS pixel, as wide as its box, so its text keeps its size on
// a phone; older marks scroll off to the left. Each mark can be focused (and hovered) for its
// request line, status and size. With `prefers-reduced-motion: reduce` nothing moves: the
// picture is a snapshot, redrawn when the "Redraw" button is pressed.

const NS = 'http://www.w3.org/2000/svg';
const HEIGHT = 190;
const BROWSER_Y = 40;
const SERVER_Y = 140;
const LEFT = 90; // where the lanes start, right of their labels
const PX_PER_MS = 0.04; // 40 px per second
const SLANT = 14; // how far an arrow leans, as in the static pictures
const KEEP_MS = 5 * 60 * 1000; // marks older than this are removed
const LABEL_GAP = 56; // the least room between two labels on the same row

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  parent?.append(node);
  return node;
}

/** A size in bytes for people: "349 B", "2.1 kB". */
export function formatBytes(bytes) {
  if (bytes == null) return 'size unknown';
  if (bytes < 1000) return `${bytes} B`;
  return `${(bytes / 1000).toFixed(1)} kB`;
}

/** A timeline that draws nothing, for pages without one. */
function inert() {
  const mark = { answer() {}, push() {}, end() {}, fail() {}, describe() {} };
  return {
    request: () => mark,
    event() {},
    wait() {},
    send() {},
    redraw() {},
    pause() {},
  };
}

/** Connects to `.live-timeline` in the page (or returns one that draws nothing). */
export function createTimeline(doc = document) {
  const box = doc.querySelector('.live-timeline');
  const svg = box?.querySelector('svg');
  if (!svg) return inert();

  const reduced = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;
  const origin = Date.now();
  let width = Math.max(320, Math.round(box.clientWidth || 660));
  let paused = false;
  let shownAt = origin; // the moment the right edge shows
  const open = new Set(); // bars still growing: { bar, from }
  const marks = []; // { node, at } oldest first, for pruning
  const lastLabel = { top: -Infinity, bottom: -Infinity };

  svg.replaceChildren();
  const defs = el('defs', {}, svg);
  for (const [id, cls] of [['live-arrow', 'arrow'], ['live-arrow-data', 'arrow-data'], ['live-arrow-up', 'arrow-up']]) {
    const marker = el('marker', {
      id, class: cls, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto',
    }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z' }, marker);
  }
  const clip = el('clipPath', { id: 'live-clip' }, defs);
  const clipRect = el('rect', { x: LEFT - 4, y: 0, width: width - LEFT, height: HEIGHT }, clip);
  const browserLane = el('line', { class: 'lane', x1: LEFT, y1: BROWSER_Y, x2: width - 10, y2: BROWSER_Y }, svg);
  const serverLane = el('line', { class: 'lane', x1: LEFT, y1: SERVER_Y, x2: width - 10, y2: SERVER_Y }, svg);
  el('text', { class: 'lane-label', x: 8, y: BROWSER_Y + 4 }, svg).textContent = 'Browser';
  el('text', { class: 'lane-label', x: 8, y: SERVER_Y + 4 }, svg).textContent = 'Server';
  const axis = el('text', { class: 'axis', x: width - 10, y: HEIGHT - 6, 'text-anchor': 'end' }, svg);
  axis.textContent = 'time →';
  const view = el('g', { 'clip-path': 'url(#live-clip)' }, svg);
  const track = el('g', { class: 'track' }, view);

  /** x of moment `t` inside the track. */
  const xOf = (t) => (t - origin) * PX_PER_MS;

  function layout() {
    const right = width - 16;
    const shift = Math.min(LEFT, right - xOf(shownAt));
    track.setAttribute('transform', `translate(${shift.toFixed(1)},0)`);
    for (const hold of open) {
      hold.bar.setAttribute('width', Math.max(0, xOf(shownAt) - hold.from).toFixed(1));
    }
  }

  function resize() {
    const next = Math.max(320, Math.round(box.clientWidth || width));
    if (next === width) return;
    width = next;
    svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
    svg.setAttribute('width', width);
    clipRect.setAttribute('width', width - LEFT);
    for (const lane of [browserLane, serverLane]) lane.setAttribute('x2', width - 10);
    axis.setAttribute('x', width - 10);
    layout();
  }
  svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', HEIGHT);
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(resize).observe(box);

  function redraw() {
    shownAt = Date.now();
    layout();
    prune();
  }

  function prune() {
    const limit = Date.now() - KEEP_MS;
    while (marks.length && marks[0].at < limit && !marks[0].node.contains(doc.activeElement)) {
      marks.shift().node.remove();
    }
  }

  if (!reduced) {
    const frame = () => {
      if (!paused && !doc.hidden) {
        shownAt = Date.now();
        layout();
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    setInterval(prune, 10000);
  }
  doc.getElementById('timeline-redraw')?.addEventListener('click', redraw);

  /** A focusable group with a tooltip; `cls` names the kind of mark. */
  function group(cls, at, title) {
    const g = el('g', { class: `mark ${cls}`, tabindex: 0, role: 'img', 'aria-label': title }, track);
    el('title', {}, g).textContent = title;
    marks.push({ node: g, at });
    return g;
  }

  function retitle(g, title) {
    g.setAttribute('aria-label', title);
    g.querySelector('title').textContent = title;
  }

  /** A short label above the browser lane (or below the server lane), unless it would collide. */
  function label(parent, x, text, cls = 'note', row = 'top') {
    if (!text || x - lastLabel[row] < LABEL_GAP) return;
    lastLabel[row] = x;
    const y = row === 'top' ? 26 : SERVER_Y + 26;
    el('text', { class: cls, x, y, 'text-anchor': 'middle' }, parent).textContent = text;
  }

  function upArrow(parent, x, kind) {
    const data = kind === 'data' || kind === 'push';
    el('line', {
      class: `ans ans-${kind}`, x1: x, y1: SERVER_Y - 2, x2: x + SLANT, y2: BROWSER_Y + 4,
      'marker-end': `url(#live-arrow${data ? '-data' : ''})`,
    }, parent);
  }

  const timeline = {
    /**
     * A request leaving now. `line` is its request line (`GET /api/… HTTP/1.1`); `held` draws
     * the bar of a request the server keeps open (a long poll, a stream, a socket: then `pipe`).
     */
    request({ line, held = false, pipe = false }) {
      const at = Date.now();
      const x = xOf(at);
      let title = `${line}: waiting for the answer`;
      const g = group('mark-req', at, title);
      el('line', {
        class: 'req', x1: x, y1: BROWSER_Y + 2, x2: x + SLANT, y2: SERVER_Y - 4, 'marker-end': 'url(#live-arrow)',
      }, g);
      let hold = null;
      if (held || pipe) {
        const bar = pipe
          ? el('rect', { class: 'pipe', x: x + SLANT, y: 50, width: 0, height: 80, rx: 8 }, g)
          : el('rect', { class: 'hold', x: x + SLANT, y: 116, width: 0, height: 8, rx: 4 }, g);
        // The bar goes under the arrows drawn later.
        track.prepend(g);
        hold = { bar, from: x + SLANT };
        open.add(hold);
      }
      let done = false;
      const close = (end) => {
        if (!hold) return;
        hold.bar.setAttribute('width', Math.max(2, xOf(end) - hold.from).toFixed(1));
        open.delete(hold);
      };
      if (reduced) layout();
      return {
        /** The (first) answer: `status`, `size` in bytes (null if unknown), `kind` empty|data|upgrade. */
        answer({ status, size = null, kind = 'empty', text = '' }) {
          if (done) return;
          const now = Date.now();
          const ax = Math.max(xOf(now), x + SLANT + 4);
          const sizeText = formatBytes(size);
          title = `${line} → ${status}, ${sizeText}${text ? `: ${text}` : ''}`;
          retitle(g, title);
          if (kind === 'upgrade') {
            // The 101 only switches protocols: the socket then stays open as the band.
            el('line', {
              class: 'ans ans-upgrade', x1: ax, y1: SERVER_Y - 2, x2: ax + SLANT, y2: BROWSER_Y + 4,
              'marker-end': 'url(#live-arrow)',
            }, g);
            label(g, ax + SLANT / 2, '101');
            return;
          }
          done = !held && !pipe;
          if (!pipe) close(now);
          upArrow(g, ax, kind);
          if (kind === 'data' && text) label(g, ax + SLANT / 2, text, 'note note-data');
        },
        /** One piece pushed down an open stream (a part, an SSE message, a script, a frame). */
        push({ text = 'push', size = null, detail = '' }) {
          const now = Date.now();
          const px = xOf(now);
          const pg = group('mark-push', now, `${detail || text}, ${formatBytes(size)}`);
          upArrow(pg, px, 'data');
          label(pg, px + SLANT / 2, text, 'note note-data');
        },
        /** The browser sending a message up an open socket. */
        send({ text = 'sent', size = null, detail = '' }) {
          const now = Date.now();
          const sx = xOf(now);
          const sg = group('mark-send', now, `${detail || text}, ${formatBytes(size)}`);
          el('line', {
            class: 'req req-up', x1: sx, y1: BROWSER_Y + 4, x2: sx + SLANT, y2: SERVER_Y - 4,
            'marker-end': 'url(#live-arrow-up)',
          }, sg);
          label(sg, sx + SLANT / 2, text);
        },
        /** The connection or held request ended (by the server, or dropped by us). */
        end(why = '') {
          if (done) return;
          done = true;
          const now = Date.now();
          close(now);
          const ex = xOf(now);
          el('line', { class: 'end', x1: ex, y1: 104, x2: ex, y2: 128 }, g);
          if (why) retitle(g, `${title}; ended: ${why}`);
        },
        /** The request failed without an answer we could read. */
        fail(message) {
          if (done) return;
          done = true;
          close(Date.now());
          const fx = xOf(Date.now());
          el('line', { class: 'ans ans-failed', x1: fx, y1: SERVER_Y - 2, x2: fx + SLANT, y2: BROWSER_Y + 4 }, g);
          retitle(g, `${line} → failed: ${message}`);
        },
        /** Adds to the tooltip (the size once it is known, say). */
        describe(extra) {
          retitle(g, `${title}${extra}`);
        },
      };
    },

    /** An event stamped by the server at `at` (this browser's clock, corrected). */
    event({ at, text, id }) {
      const ex = xOf(at);
      const g = group('mark-evt', at, `event ${id}: ${text}`);
      el('path', { class: 'evt', d: `M${ex.toFixed(1)},${SERVER_Y - 9} l9,9 l-9,9 l-9,-9 z` }, g);
    },

    /**
     * An event that waited on the server from `at` until `until` (both this browser's clock),
     * when an answer finally took it: a dotted line along the server lane, as in the static
     * piggyback picture, with how long it waited.
     */
    wait({ at, until, id }) {
      const from = xOf(at);
      const to = Math.max(from, xOf(until));
      const seconds = ((until - at) / 1000).toFixed(1);
      const g = group('mark-wait', at, `event ${id} waited ${seconds} s on the server for an answer to ride on`);
      el('line', { class: 'wait', x1: from.toFixed(1), y1: SERVER_Y - 18, x2: to.toFixed(1), y2: SERVER_Y - 18 }, g);
      label(g, (from + to) / 2, `waited ${seconds} s`, 'note', 'bottom');
    },

    redraw,

    /** Stops (true) or restarts (false) the scrolling, with the log's Pause button. */
    pause(on) {
      paused = on;
      if (!on) redraw();
    },
  };
  return timeline;
}
