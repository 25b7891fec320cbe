//! Chromium's console, read through chromedriver, to fail a test on any Content Security
//! Policy violation, and to check that no page logs an error.
//!
//! A violation during page load happens before any script the test could inject, and
//! WebDriver's own scripts are exempt from the policy, so the page cannot report on itself.
//! Chromium writes every violation to the console, though (the iframe's too), and
//! chromedriver keeps the console of a session whose capabilities ask for it
//! (`goog:loggingPrefs`), across navigations, until it is read.

use fantoccini::Client;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

use crate::harness::TestResult;

/// The capability that makes chromedriver keep the browser console.
pub fn logging_capability() -> (String, Value) {
    ("goog:loggingPrefs".to_owned(), json!({"browser": "ALL"}))
}

/// `POST /session/{id}/<path>` with a JSON `body`: one of chromedriver's own commands, such
/// as `se/log` (the console) or `goog/cdp/execute` (a DevTools command).
#[derive(Debug)]
pub struct SessionPost {
    pub path: &'static str,
    pub body: Value,
}

impl WebDriverCompatibleCommand for SessionPost {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// One console entry: its level (`SEVERE` for errors, failed loads included) and text.
#[derive(Debug, Clone)]
pub struct Entry {
    pub level: String,
    pub message: String,
}

/// Every console entry since the last read (reading empties chromedriver's copy).
pub async fn entries(client: &Client) -> TestResult<Vec<Entry>> {
    let entries = client
        .issue_cmd(SessionPost {
            path: "se/log",
            body: json!({"type": "browser"}),
        })
        .await?;
    Ok(entries
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| Entry {
            level: entry["level"].as_str().unwrap_or_default().to_owned(),
            message: entry["message"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}

/// Whether `entry` reports a Content Security Policy violation.
pub fn is_csp_violation(entry: &Entry) -> bool {
    entry.message.contains("Content Security Policy")
}

/// Whether `entry` is an error: a script error, a `console.error` or a failed load.
pub fn is_error(entry: &Entry) -> bool {
    entry.level == "SEVERE"
}

/// The console messages since the last call that report a Content Security Policy
/// violation.
pub async fn csp_violations(client: &Client) -> TestResult<Vec<String>> {
    Ok(entries(client)
        .await?
        .into_iter()
        .filter(is_csp_violation)
        .map(|e| e.message)
        .collect())
}
