//! `POST /api/csp-reports`: where browsers send a report each time the policy blocks
//! something (the `report-uri` of both policies). Each report is logged at warn level, so a
//! page that breaks its own policy shows up in the server log. At most a few reports a
//! second are logged, so that nobody can flood the log through this endpoint.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rocket::data::{Data, ToByteUnit};
use rocket::http::Status;
use rocket::{Route, State};
use serde_json::Value;

/// Reports are a few hundred bytes; anything past this is not read.
const MAX_REPORT: usize = 8 * 1024;
/// How much of one field goes into the log.
const MAX_FIELD: usize = 200;

/// How many reports a second are logged, over every client.
const LOGGED_PER_SECOND: NonZeroU32 = NonZeroU32::new(5).unwrap();

/// The log's budget for reports.
pub struct Budget(DefaultDirectRateLimiter);

impl Default for Budget {
    fn default() -> Self {
        Budget(RateLimiter::direct(Quota::per_second(LOGGED_PER_SECOND)))
    }
}

/// Logs the report and answers 204, whatever the body: a malformed or oversized report is
/// the browser's problem (or someone's noise), never a server error.
#[post("/api/csp-reports", data = "<report>")]
async fn report(report: Data<'_>, budget: &State<Budget>) -> Status {
    if budget.0.check().is_err() {
        return Status::NoContent;
    }
    let body = match report.open(MAX_REPORT.bytes()).into_string().await {
        Ok(body) if body.is_complete() => body.into_inner(),
        Ok(_) => return ignored("a report over 8 KiB"),
        Err(_) => return ignored("an unreadable report"),
    };
    match summary(&body) {
        Some(line) => rocket::warn!("CSP violation: {line}"),
        None => return ignored("a report that is not a CSP report"),
    }
    Status::NoContent
}

/// Logs a report that could not be read, once, briefly.
fn ignored(what: &str) -> Status {
    rocket::info!("ignored {what} at /api/csp-reports");
    Status::NoContent
}

/// `directive blocked <uri> on <page>` from a `report-uri` body
/// (`{"csp-report": {"effective-directive": …, "blocked-uri": …, "document-uri": …}}`).
fn summary(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let report = value.get("csp-report")?;
    let field = |name: &str| {
        let text = report.get(name).and_then(Value::as_str).unwrap_or("?");
        // Debug formatting escapes control characters, so a report cannot forge log lines.
        format!("{:?}", text.chars().take(MAX_FIELD).collect::<String>())
    };
    let directive = match report.get("effective-directive") {
        Some(_) => field("effective-directive"),
        None => field("violated-directive"),
    };
    Some(format!(
        "{directive} blocked {} on {}",
        field("blocked-uri"),
        field("document-uri")
    ))
}

pub fn routes() -> Vec<Route> {
    routes![report]
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn a_report_is_summarised_with_its_fields_escaped() {
        let body = r#"{"csp-report":{"effective-directive":"style-src-attr",
            "blocked-uri":"inline","document-uri":"http://h/polling\n[forged]"}}"#;

        let line = summary(body).expect("a summary");

        assert_eq!(
            line,
            r#""style-src-attr" blocked "inline" on "http://h/polling\n[forged]""#
        );
    }

    #[test]
    fn anything_else_is_not_a_report() {
        for body in ["", "{", "[]", r#"{"other":1}"#] {
            assert_eq!(summary(body), None, "{body}");
        }
    }
}
