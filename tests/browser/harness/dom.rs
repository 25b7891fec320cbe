//! Reading the page: a wait that polls the DOM under a timeout, and snapshots of the demo
//! widgets and the log that the technique pages share.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use fantoccini::Client;
use serde::Deserialize;
use serde_json::Value;

use super::TestResult;

/// How often a wait looks at the page again.
pub(super) const POLL: Duration = Duration::from_millis(50);

/// Polls `probe` every 50 ms until `done` holds for what it returned, or fails after
/// `timeout` with a message naming `what` was awaited and the last state seen.
pub async fn wait_for<T: Debug>(
    client: &Client,
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut(&Client) -> TestResult<T>,
    done: impl Fn(&T) -> bool,
) -> TestResult<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let state = probe(client).await?;
        if done(&state) {
            return Ok(state);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "timed out after {timeout:?} waiting for {what}; last seen: {state:#?}"
            )
            .into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A snapshot of a demo page's log, counters and in-flight JSONP scripts.
#[derive(Debug, Clone, Deserialize)]
pub struct Demo {
    /// `data-id` of every `li.log-entry[data-kind=event]` in `#log`, top to bottom.
    pub log_ids: Vec<Option<String>>,
    /// Text of every `li.log-entry[data-kind=error]`.
    pub log_errors: Vec<String>,
    /// `data-id` of every `#event-log li[data-id]`, top to bottom.
    pub rows: Vec<String>,
    /// The counters as numbers; `None` when missing or not a plain number.
    pub requests: Option<f64>,
    pub empty: Option<f64>,
    pub events: Option<f64>,
    pub bytes: Option<f64>,
    pub frames: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    /// Request marks on the live timeline (`.live-timeline .mark-req`).
    pub marks: usize,
    /// Text of the "Raw answer" panel.
    pub raw: Option<String>,
    /// Text of `#pattern-status`.
    pub pattern_status: Option<String>,
    /// `<script>` elements whose `src` contains `api/channels`.
    pub scripts: usize,
    /// Text of `#form-result`.
    pub form_result: Option<String>,
    /// Text of each `.field-error`, by its `data-field`.
    pub field_errors: serde_json::Map<String, Value>,
}

impl Demo {
    /// The event ids in the log (an entry without `data-id` counts as "").
    pub fn ids(&self) -> Vec<String> {
        self.log_ids
            .iter()
            .map(|id| id.clone().unwrap_or_default())
            .collect()
    }

    /// The trimmed text of the field error for `field`, if that element exists.
    pub fn field_error(&self, field: &str) -> Option<&str> {
        self.field_errors.get(field).and_then(Value::as_str)
    }
}

const DEMO_JS: &str = r#"
const num = (sel) => {
  const el = document.querySelector(sel);
  if (!el) return null;
  const text = el.textContent.trim();
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : null;
};
const all = (sel) => Array.from(document.querySelectorAll(sel));
const result = document.getElementById('form-result');
const fieldErrors = {};
for (const el of all('.field-error[data-field]')) {
  fieldErrors[el.dataset.field] = el.textContent.trim();
}
return {
  log_ids: all('#log li.log-entry[data-kind="event"]').map((li) => li.getAttribute('data-id')),
  log_errors: all('#log li.log-entry[data-kind="error"]').map((li) => li.textContent.trim()),
  rows: all('#event-log li[data-id]').map((li) => li.getAttribute('data-id')),
  requests: num('#count-requests'),
  empty: num('#count-empty'),
  events: num('#count-events'),
  bytes: num('#count-bytes'),
  frames: num('#count-frames'),
  p50: num('#count-p50'),
  p95: num('#count-p95'),
  marks: all('.live-timeline .mark-req').length,
  raw: document.getElementById('wire-raw')?.textContent ?? null,
  pattern_status: document.getElementById('pattern-status')?.textContent.trim() ?? null,
  scripts: all('script[src*="api/channels"]').length,
  form_result: result ? result.textContent.trim() : null,
  field_errors: fieldErrors,
};
"#;

/// The text of every `#log` entry of the current window, top to bottom, without the latency
/// (`+12 ms`) after an event.
pub async fn log_texts(client: &Client) -> TestResult<Vec<String>> {
    let js = "return Array.from(document.querySelectorAll('#log li.log-entry'), (li) => \
              Array.from(li.childNodes).filter((n) => !n.classList?.contains('latency')) \
                .map((n) => n.textContent).join('').trim());";
    let value = client.execute(js, vec![]).await?;
    Ok(serde_json::from_value(value)?)
}

/// Reads the demo widgets of `client`'s current window once (for [`wait_for`]).
pub async fn demo_of(client: &Client) -> TestResult<Demo> {
    demo(client).await
}

pub(super) async fn demo(client: &Client) -> TestResult<Demo> {
    let value = client.execute(DEMO_JS, vec![]).await?;
    Ok(serde_json::from_value(value)?)
}
