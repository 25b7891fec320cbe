//! Chromium's console, read through chromedriver, to fail a test on any Content Security
//! Policy violation.
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

/// `POST /session/{id}/se/log {"type":"browser"}`: chromedriver's console entries since the
/// last read.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/se/log"))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The console messages since the last call that report a Content Security Policy
/// violation.
pub async fn csp_violations(client: &Client) -> TestResult<Vec<String>> {
    let entries = client.issue_cmd(BrowserLog).await?;
    let messages = entries
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["message"].as_str().map(str::to_owned));
    Ok(messages
        .filter(|m| m.contains("Content Security Policy"))
        .collect())
}
