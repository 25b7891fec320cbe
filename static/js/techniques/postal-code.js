// Listing 1: fill in the place name from a postal code with a JSONP request.
//
// No fetch and no XMLHttpRequest here: the request is a <script> element whose URL names a
// function of ours in `callback=`. The server answers with a script that calls it (the loader
// is lib/jsonp.js).

import { jsonp, jsonpBody } from '../lib/jsonp.js';
import { requestLine } from '../lib/log.js';
import { createTimeline } from '../lib/timeline.js';
import { byteLength, transferSize } from '../lib/wire.js';

const DEBOUNCE_MS = 300;
const TIMEOUT_MS = 10000;

// When a code "looks complete" for a country, so that typing can trigger a lookup by itself.
// Other countries (and "any country") wait for three characters. Enter or the button always
// looks up whatever is there, which is how to ask for a UK area such as "SW".
const COMPLETE = {
  US: /^\d{5}(-?\d{4})?$/,
  CA: /^[A-Z]\d[A-Z]( ?\d[A-Z]\d)?$/,
  GB: /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/,
  FR: /^\d{5}$/, DE: /^\d{5}$/, ES: /^\d{5}$/, IT: /^\d{5}$/, MX: /^\d{5}$/,
  AT: /^\d{4}$/, AU: /^\d{4}$/, BE: /^\d{4}$/, CH: /^\d{4}$/, DK: /^\d{4}$/, NO: /^\d{4}$/,
  NL: /^\d{4}( ?[A-Z]{2})?$/,
  IN: /^\d{6}$/,
  JP: /^\d{3}-?\d{4}$/,
  PT: /^\d{4}-?\d{3}$/,
};

function looksComplete(code, country) {
  const tidy = code.trim().toUpperCase().replace(/\s+/g, ' ');
  const pattern = COMPLETE[country];
  return pattern ? pattern.test(tidy) : tidy.replace(/ /g, '').length >= 3;
}

export function start(doc = document) {
  const form = doc.getElementById('lookup');
  const code = doc.getElementById('postal-code');
  const country = doc.getElementById('country');
  const place = doc.getElementById('place-name');
  const choices = doc.getElementById('place-choices');
  const status = doc.getElementById('lookup-status');
  const requestUrl = doc.getElementById('request-url');
  const rawAnswer = doc.getElementById('raw-answer');
  let timer = null;
  let latest = 0;
  const timeline = createTimeline(doc);

  function showChoices(places) {
    choices.replaceChildren(...places.map((p, i) => {
      const option = doc.createElement('option');
      option.value = String(i);
      const region = p.adminName1 || p.adminCode1;
      option.textContent = `${p.placeName || '(no name)'}${region ? `, ${region}` : ''} (${p.countryCode} ${p.postalcode})`;
      return option;
    }));
    choices.hidden = places.length < 2;
    choices.onchange = () => { place.value = places[Number(choices.value)].placeName || ''; };
  }

  async function lookUp() {
    const mine = ++latest;
    const params = new URLSearchParams({ postalcode: code.value.trim(), maxRows: '10' });
    if (country.value) params.set('country', country.value);
    // An absolute path: the same wherever the page itself is.
    const url = `/api/postalcodes?${params}`;
    status.textContent = 'Asking the server…';
    let mark = null;
    try {
      const { callback, value, src } = await jsonp(url, {
        namespace: 'postal',
        onSend: (sent) => {
          requestUrl.textContent = sent;
          mark = timeline.request({ line: requestLine(sent) });
        },
      });
      const body = jsonpBody(callback, value);
      mark?.answer({ status: 200, size: byteLength(body), kind: 'data', text: 'answer' });
      transferSize(src).then((size) => mark?.describe(size ? ` (${size} B with headers)` : ''));
      if (mine !== latest) return; // a newer lookup has started; this answer is stale
      rawAnswer.textContent = `/**/${callback}(${JSON.stringify(value, null, 2)});`;
      const places = value.postalcodes || [];
      place.value = places.length ? places[0].placeName || '' : '';
      showChoices(places);
      status.textContent = places.length === 0 ? 'No place has this postal code.'
        : places.length === 1 ? 'One place found.'
          : `${places.length} places share this code: the first is filled in, pick another below.`;
    } catch (error) {
      mark?.fail(error.message);
      if (mine !== latest) return;
      rawAnswer.textContent = '(no answer to show: a script that fails to load cannot be read)';
      status.textContent = `Lookup failed: ${error.message}.`;
    }
  }

  /** Forgets the last answer once the question changes, so it is never shown for another code. */
  function forget() {
    latest += 1; // an answer still on its way is for the old question
    place.value = '';
    choices.replaceChildren();
    choices.hidden = true;
  }

  function schedule() {
    clearTimeout(timer);
    forget();
    if (!looksComplete(code.value, country.value)) {
      status.textContent = code.value.trim() ? 'Waiting for a complete code (or press Enter).' : '';
      return;
    }
    status.textContent = '';
    timer = setTimeout(lookUp, DEBOUNCE_MS);
  }

  code.addEventListener('input', schedule);
  country.addEventListener('change', schedule);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    if (code.value.trim()) lookUp();
  });
}

start();
