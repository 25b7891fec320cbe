// The lab: the nine technique clients at once, each in its own block, all on this tab's
// channel; then charts of what they did, and the server-side experiment on request.
//
// Every block runs the same module its technique's page runs. A technique module finds its
// log, counters and controls through the `doc` it is given; here that is a small stand-in
// for `document` that looks them up inside the block (`data-el` names the element that has
// that id on the technique's own page), so nine clients can share one page.

import uPlot from '../../vendor/uplot/uPlot.esm.js';

import { latencySince } from '../lib/clock.js';
import { holdElsewhere, settings, wireChoosers } from '../lib/channel.js';
import { createLog } from '../lib/log.js';
import { wireSendButton } from '../lib/send.js';
import { start as polling } from './polling.js';
import { start as jsonpPolling } from './jsonp-polling.js';
import { start as piggyback } from './piggyback.js';
import { start as foreverIframe } from './forever-iframe.js';
import { start as multipart } from './multipart-streaming.js';
import { start as sse } from './server-sent-events.js';
import { start as scriptLongPolling } from './script-long-polling.js';
import { start as longPolling } from './long-polling.js';
import { start as websocket } from './websocket.js';

const STARTERS = {
  polling,
  'jsonp-polling': jsonpPolling,
  piggyback,
  'forever-iframe': foreverIframe,
  'multipart-streaming': multipart,
  'server-sent-events': sse,
  'script-long-polling': scriptLongPolling,
  'long-polling': longPolling,
  websocket,
};

// One colour per technique, told apart in both colour schemes.
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f'];

// How often the piggyback block sends its form, as a page that saves a draft would.
const AUTOSAVE_MS = 3000;
// How long a block may go without an event once another block has had one.
const STARVED_MS = 15000;
// Points kept per chart.
const MAX_POINTS = 600;

/** A stand-in for `document` that finds the block's own elements. */
function scopeOf(block) {
  return {
    getElementById: (id) => block.querySelector(`[data-el="${id}"]`),
    querySelector: (selector) => block.querySelector(selector),
    querySelectorAll: (selector) => block.querySelectorAll(selector),
    createElement: (name) => document.createElement(name),
    get activeElement() {
      return document.activeElement;
    },
    get hidden() {
      return document.hidden;
    },
    body: document.body,
  };
}

/** The other loopback name of this server, whose six connections the held requests use. */
function siblingOrigin() {
  const names = { '127.0.0.1': 'localhost', localhost: '127.0.0.1', '[::1]': '127.0.0.1' };
  const other = names[location.hostname];
  return other ? `${location.protocol}//${other}${location.port ? `:${location.port}` : ''}` : '';
}

/** Wraps `log.request` so the block can show how many connections it holds open now. */
function countHeld(log, show) {
  let held = 0;
  const request = log.request;
  log.request = (line, options = {}) => {
    const mark = request(line, options);
    if (!options.held && !options.pipe) return mark;
    held += 1;
    show(held);
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      held -= 1;
      show(held);
    };
    return {
      ...mark,
      // A WebSocket's answer is its 101: the connection stays open after it.
      answer: (...a) => (options.pipe || close(), mark.answer(...a)),
      end: (...a) => (close(), mark.end(...a)),
      fail: (...a) => (close(), mark.fail(...a)),
    };
  };
}

/** The number a metric element shows, or 0. */
function metric(block, name) {
  const value = Number.parseFloat(block.querySelector(`[data-metric="${name}"]`)?.textContent);
  return Number.isFinite(value) ? value : 0;
}

/** Starts one technique in its block; returns what the charts read. */
function startBlock(block, index, onEvent) {
  const slug = block.dataset.technique;
  const colour = COLOURS[index % COLOURS.length];
  block.style.setProperty('--series', colour);
  const doc = scopeOf(block);
  const state = block.querySelector('[data-el="state"]');
  const heldOut = block.querySelector('[data-metric="held"]');
  const resetsOut = block.querySelector('[data-metric="resets"]');
  const log = createLog(doc);
  countHeld(log, (n) => {
    heldOut.textContent = String(n);
  });
  let resets = 0;
  const client = log.client;
  log.client = (text) => {
    // cursor.js words every reset this way, whichever transport brought it.
    if (text.startsWith('cursor reset')) {
      resets += 1;
      resetsOut.textContent = String(resets);
    }
    return client(text);
  };
  const info = { slug, colour, block, lastEvent: 0, started: Date.now() };
  try {
    STARTERS[slug](log, doc);
    state.textContent = 'running';
    // After start: a technique may set its own hook (the WebSocket's chat does).
    const own = log.onEvent;
    log.onEvent = (event) => {
      own?.(event);
      info.lastEvent = Date.now();
      onEvent(index, event);
    };
  } catch (err) {
    state.textContent = 'failed';
    block.dataset.state = 'starved';
    log.error(`could not start: ${err.message}`);
  }
  if (slug === 'piggyback') {
    const form = doc.getElementById('register');
    setInterval(() => form?.requestSubmit(), AUTOSAVE_MS);
  }
  return info;
}

/** The colours uPlot should use for text and grid lines in the current scheme. */
function chartTheme() {
  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue('--fg').trim() || '#1d2330';
  const grid = css.getPropertyValue('--border').trim() || '#d9dee6';
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
  return [{ ...axis }, { ...axis }];
}

/** A uPlot chart in `box` with one series per technique. */
function makeChart(box, blocks, { yLabel, points = false }) {
  const series = [{}].concat(
    blocks.map((b) => ({
      label: b.slug,
      stroke: b.colour,
      width: 2,
      spanGaps: !points,
      points: points ? { show: true, size: 6, fill: b.colour } : { show: false },
      paths: points ? () => null : undefined,
    })),
  );
  const data = [[]].concat(blocks.map(() => []));
  const axes = chartTheme();
  axes[1].label = yLabel;
  const opts = {
    width: Math.max(280, box.clientWidth),
    height: 220,
    series,
    axes,
    scales: { x: { time: true } },
    legend: { live: false },
  };
  const chart = new uPlot(opts, data, box);
  new ResizeObserver(() => chart.setSize({ width: Math.max(280, box.clientWidth), height: 220 })).observe(box);
  return { chart, data };
}

/** Drops the oldest points beyond MAX_POINTS. */
function trim(data) {
  const extra = data[0].length - MAX_POINTS;
  if (extra > 0) for (const column of data) column.splice(0, extra);
}

function startCharts(blocks) {
  const lab = document.getElementById('lab');
  const box = (name) => lab.querySelector(`[data-chart="${name}"]`);
  const latency = makeChart(box('latency'), blocks, { yLabel: 'ms', points: true });
  const bytes = makeChart(box('bytes'), blocks, { yLabel: 'bytes' });
  const requests = makeChart(box('requests'), blocks, { yLabel: 'per minute' });
  const history = []; // [{ t, requests: [...] }] one per second, the last minute

  function latencyPoint(index, event) {
    const value = latencySince(event.at);
    if (value === null) return;
    latency.data[0].push(Date.now() / 1000);
    latency.data.slice(1).forEach((column, i) => column.push(i === index ? value : null));
    trim(latency.data);
    latency.chart.setData(latency.data);
  }

  setInterval(() => {
    const t = Date.now() / 1000;
    bytes.data[0].push(t);
    blocks.forEach((b, i) => bytes.data[i + 1].push(metric(b.block, 'bytes')));
    trim(bytes.data);
    bytes.chart.setData(bytes.data);

    history.push({ t, counts: blocks.map((b) => metric(b.block, 'requests')) });
    while (history.length && history[0].t < t - 60) history.shift();
    const first = history[0];
    requests.data[0].push(t);
    blocks.forEach((b, i) => requests.data[i + 1].push(history.at(-1).counts[i] - first.counts[i]));
    trim(requests.data);
    requests.chart.setData(requests.data);
  }, 1000);

  return { latencyPoint };
}

/** Marks a block that hears nothing while others do, so no technique starves silently. */
function watchStarvation(blocks) {
  setInterval(() => {
    const newest = Math.max(...blocks.map((b) => b.lastEvent));
    if (!newest) return;
    for (const b of blocks) {
      const behind = newest - Math.max(b.lastEvent, b.started);
      const starved = behind > STARVED_MS;
      b.block.dataset.state = starved ? 'starved' : '';
      const state = b.block.querySelector('[data-el="state"]');
      if (starved) state.textContent = `no event for ${Math.round(behind / 1000)} s while others had some`;
      else if (state.textContent.startsWith('no event')) state.textContent = 'running';
    }
  }, 1000);
}

/** Fills the "Bytes per event here" column of the comparison table. */
function watchOverhead(blocks) {
  setInterval(() => {
    for (const b of blocks) {
      const cell = document.querySelector(`[data-overhead="${b.slug}"]`);
      const events = metric(b.block, 'events');
      if (cell && events > 0) cell.textContent = `${Math.round(metric(b.block, 'bytes') / events)} B`;
    }
  }, 2000);
}

/** "Run on the server": starts the experiment and charts its result. */
function wireExperiment() {
  const form = document.getElementById('experiment-form');
  const status = document.getElementById('experiment-status');
  const table = document.getElementById('experiment-table');
  const box = document.querySelector('[data-chart="experiment"]');
  const button = document.getElementById('experiment-run');
  let chart = null;

  function show(rows) {
    const body = table.querySelector('tbody');
    body.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement('tr');
      const cells = [row.technique, row.requests, row.empty_answers, row.bytes_down, row.events, row.lost,
        row.latency_ms?.p50 ?? '–', row.latency_ms?.p95 ?? '–', row.server_cpu_ms ?? '–'];
      for (const value of cells) {
        const td = document.createElement('td');
        td.textContent = String(value);
        tr.append(td);
      }
      body.append(tr);
    }
    table.hidden = false;
    const names = rows.map((r) => r.technique);
    const x = rows.map((_, i) => i);
    const perEvent = rows.map((r) => (r.events ? Math.round(r.bytes_down / r.events) : null));
    const p95 = rows.map((r) => r.latency_ms?.p95 ?? null);
    const axes = chartTheme();
    axes[0].values = (u, splits) => splits.map((i) => names[i] ?? '');
    axes[0].rotate = -30;
    axes[0].size = 90;
    axes[1].label = 'bytes per event';
    axes.push({ ...chartTheme()[1], side: 1, label: 'p95 ms', scale: 'ms', grid: { show: false } });
    const bars = uPlot.paths.bars({ size: [0.4, 40], align: -1 });
    const opts = {
      width: Math.max(280, box.clientWidth),
      height: 260,
      // The key names the two bars; the values are in the table (a live key would read "--").
      legend: { live: false },
      scales: { x: { time: false, range: [-0.5, rows.length - 0.5] }, ms: {} },
      axes,
      series: [
        {},
        { label: 'bytes per event', stroke: COLOURS[0], fill: COLOURS[0], paths: bars },
        { label: 'p95 ms', stroke: COLOURS[1], fill: COLOURS[1], scale: 'ms', paths: uPlot.paths.bars({ size: [0.4, 40], align: 1 }) },
      ],
    };
    chart?.destroy();
    chart = new uPlot(opts, [x, perEvent, p95], box);
  }

  // How long a run takes: each of the nine techniques gets its seconds of events, two
  // intervals to settle and half a second between; the child server starts first.
  const duration = document.getElementById('experiment-duration');
  const estimate = () => {
    const seconds = Number(form.seconds.value);
    const interval = Number(form.interval.value);
    if (!Number.isFinite(seconds) || !Number.isFinite(interval)) return;
    const total = Math.round(9 * (seconds + 2 * interval + 0.5));
    duration.textContent = `With these settings a run takes about ${total} s (9 × (seconds + 2 × interval + 0.5 s)), plus a few seconds to start the server.`;
  };
  form.addEventListener('input', estimate);
  estimate();

  form.addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const ask = {
      clients: Number(form.clients.value),
      seconds: Number(form.seconds.value),
      pattern: form.pattern.value,
      interval: Number(form.interval.value),
    };
    button.disabled = true;
    status.textContent = 'Starting…';
    try {
      const res = await fetch('/api/experiments', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(ask),
      });
      const answer = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(answer.error || `the server answered ${res.status}`);
      const source = new EventSource(`/api/experiments/${encodeURIComponent(answer.id)}`);
      source.addEventListener('progress', (message) => {
        const p = JSON.parse(message.data);
        const where = p.technique ? ` ${p.technique}` : '';
        const count = p.of ? ` (${(p.index ?? 0) + 1} of ${p.of})` : '';
        status.textContent = `Experiment ${answer.id}: ${p.state}${where}${count}${p.message ? `: ${p.message}` : ''}`;
      });
      source.addEventListener('result', (message) => {
        source.close();
        button.disabled = false;
        status.textContent = `Experiment ${answer.id} finished.`;
        show(JSON.parse(message.data));
      });
      source.addEventListener('failed', (message) => {
        source.close();
        button.disabled = false;
        status.textContent = `Experiment ${answer.id} failed: ${message.data}`;
      });
      source.addEventListener('error', () => {
        if (source.readyState === EventSource.CLOSED) {
          button.disabled = false;
          status.textContent = 'The experiment\'s progress stream was refused.';
        }
      });
    } catch (err) {
      button.disabled = false;
      status.textContent = `The experiment could not start: ${err.message}.`;
    }
  });
}

function start() {
  const sibling = siblingOrigin();
  holdElsewhere(sibling);
  const note = document.getElementById('held-origin-note');
  if (!sibling && note) {
    note.textContent = 'This page is not on a loopback name, so every technique shares this host\'s six '
      + 'connections; behind nginx with HTTP/2 (deploy/nginx.conf) they all share one connection instead.';
  }
  wireChoosers(document);
  const lab = document.getElementById('lab');
  const sendLog = { client() {}, error: (text) => { document.getElementById('pattern-status').textContent = text; } };
  wireSendButton(settings().technique, sendLog, document);
  let charts = null;
  const blocks = [...lab.querySelectorAll('[data-technique]')]
    .filter((b) => b !== lab)
    .map((block, i) => startBlock(block, i, (index, event) => charts?.latencyPoint(index, event)));
  charts = startCharts(blocks);
  watchStarvation(blocks);
  watchOverhead(blocks);
  wireExperiment();
}

start();
