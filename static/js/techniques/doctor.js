// The transport doctor: runs every technique for a few seconds through this browser's real
// path to the server, a few at a time, on a channel the server feeds for the diagnosis,
// and shows one row per technique with its verdict, its figures and the evidence.

import { ALL } from '../../client/reverse-ajax.js';
import { probe } from '../doctor/probe.js';
import { judge, summary } from '../doctor/judge.js';
import { clockOffset, clockUncertainty, syncClock } from '../lib/clock.js';

/** How long each technique runs. */
const WINDOW_MS = 6000;
/** The interval of the polls, and of piggyback's form posts. */
const POLL_MS = 1000;
/** What the client assumes of the server's long-poll cap (it never waits that long here). */
const CAP_MS = 25000;
/**
 * The techniques run together. A browser keeps at most six connections to one host; each
 * group holds at most three (a WebSocket is not counted among them), leaving room for the
 * page's own requests.
 */
const GROUPS = [
  ['websocket', 'server-sent-events', 'multipart-streaming'],
  ['forever-iframe', 'long-polling', 'script-long-polling'],
  ['polling', 'jsonp-polling', 'piggyback'],
];

const $ = (id) => document.getElementById(id);

function cell(row, name, text) {
  const el = row.querySelector(`[data-field="${name}"]`);
  if (el) el.textContent = text;
}

const ms = (value) => (value === null || value === undefined ? '–' : `${Math.round(value)} ms`);

/** Fills the row of one technique with its result. */
function showRow(result) {
  const row = document.querySelector(`[data-transport="${result.transport}"]`);
  if (!row) return;
  const f = result.figures;
  cell(row, 'verdict', result.verdict);
  cell(row, 'open', ms(f.open_ms));
  cell(row, 'hello', ms(f.hello_ms));
  cell(row, 'latency', f.p50_ms === null ? '–' : `${f.p50_ms} / ${f.p95_ms} ms`);
  cell(row, 'bytes', f.bytes_per_event === null ? '–' : `${f.bytes_per_event} B`);
  const held = f.survived_ms ?? f.held_ms;
  cell(row, 'held', held === null ? '–' : `${(held / 1000).toFixed(1)} s${f.cut ? ' (cut)' : ''}`);
  cell(row, 'evidence', result.evidence);
  row.dataset.verdict = result.verdict;
}

/** Lists what the server saw of the request that started the diagnosis. */
function showSeen(seen) {
  const list = $('doctor-seen');
  list.replaceChildren();
  const proxies = seen.headers.filter((h) => h.proxy);
  $('doctor-proxies').textContent = proxies.length
    ? `Proxy headers arrived: ${proxies.map((h) => h.name).join(', ')}. Something stands between you and the server.`
    : 'No proxy header arrived (Via, Forwarded, X-Forwarded-For): no proxy said it was there, though a silent one may be.';
  for (const header of seen.headers) {
    const item = document.createElement('li');
    const name = document.createElement('code');
    name.textContent = header.name;
    item.append(name, `: ${header.value}`);
    if (header.proxy) item.dataset.proxy = '';
    list.append(item);
  }
  if (seen.withheld) {
    const item = document.createElement('li');
    item.textContent = `(${seen.withheld} header${seen.withheld === 1 ? '' : 's'} left out: cookies and anything that may be a secret)`;
    list.append(item);
  }
}

function status(text, state) {
  const el = $('doctor-status');
  el.textContent = text;
  el.dataset.state = state;
}

let report = null;

async function run() {
  $('doctor-run').disabled = true;
  $('doctor-send').disabled = true;
  $('doctor-sent').textContent = '';
  report = null;
  for (const row of document.querySelectorAll('[data-transport]')) {
    delete row.dataset.verdict;
    cell(row, 'verdict', 'waiting');
  }
  const started = performance.now();
  try {
    status('Measuring the clock difference and the round trip…', 'running');
    await syncClock();
    const res = await fetch('/api/doctor/sessions', { method: 'POST', cache: 'no-store' });
    if (!res.ok) throw new Error(`the server answered ${res.status}: ${(await res.json().catch(() => ({}))).error ?? ''}`);
    const session = await res.json();
    showSeen(session.seen);
    const context = { offset: clockOffset(), rttMs: Math.round(2 * (clockUncertainty() ?? 0)), pollMs: POLL_MS, feedMs: session.feed_ms };
    const how = { channel: session.channel, base: window.location.origin, windowMs: WINDOW_MS, pollMs: POLL_MS, capMs: CAP_MS };
    const results = [];
    for (const [i, group] of GROUPS.entries()) {
      status(`Running ${group.join(', ')} (${i + 1} of ${GROUPS.length})…`, 'running');
      for (const name of group) cell(document.querySelector(`[data-transport="${name}"]`), 'verdict', 'running');
      const recs = await Promise.all(group.map((name) => probe(name, how)));
      for (const rec of recs) {
        const result = judge(rec, context);
        results.push(result);
        showRow(result);
      }
    }
    const rows = ALL.map((name) => results.find((r) => r.transport === name)).filter(Boolean);
    const sum = summary(rows);
    $('doctor-best').textContent = sum.best ?? 'none: nothing got through';
    $('doctor-order').textContent = sum.order.join(' → ') || '–';
    $('doctor-paste').textContent = sum.paste;
    $('doctor-cut').hidden = sum.cut_after_ms === null;
    $('doctor-cut').textContent = sum.cut_after_ms === null ? '' : `Something cuts held connections after about ${(sum.cut_after_ms / 1000).toFixed(1)} s: keep a long poll's cap and a stream's life under that.`;
    $('doctor-summary').hidden = false;
    const took = ((performance.now() - started) / 1000).toFixed(1);
    report = { at: new Date().toISOString(), took_s: Number(took), round_trip_ms: context.rttMs, clock_offset_ms: context.offset, summary: sum, seen: session.seen, rows };
    $('doctor-json').textContent = JSON.stringify(report, null, 2);
    status(`Done in ${took} s.`, 'done');
    $('doctor-send').disabled = false;
  } catch (err) {
    status(`The diagnosis could not run: ${err.message}`, 'failed');
  } finally {
    $('doctor-run').disabled = false;
  }
}

async function copy() {
  if (!report) return;
  const text = JSON.stringify(report, null, 2);
  try {
    await navigator.clipboard.writeText(text);
    $('doctor-copied').textContent = 'Copied.';
  } catch {
    $('doctor-copied').textContent = 'The browser refused the clipboard: copy the JSON below instead.';
    $('doctor-json-box').open = true;
  }
}

/** Sends the verdicts alone (no figures, no headers, no text) to the operator, on request. */
async function send() {
  if (!report) return;
  const verdicts = Object.fromEntries(report.rows.map((r) => [r.transport, r.verdict]));
  const out = $('doctor-sent');
  try {
    const res = await fetch('/api/doctor/reports', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ verdicts }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error ?? `the server answered ${res.status}`);
    out.textContent = `Sent: ${body.counted} verdicts counted. Thank you.`;
    out.dataset.counted = String(body.counted);
    $('doctor-send').disabled = true;
  } catch (err) {
    out.textContent = `Not sent: ${err.message}`;
  }
}

$('doctor-run').addEventListener('click', run);
$('doctor-copy').addEventListener('click', copy);
$('doctor-send').addEventListener('click', send);
run();
