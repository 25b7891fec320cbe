//! Security headers: the Content-Security-Policy on every HTML answer, the forever iframe's
//! own nonce policy, the Shield's headers, and the report endpoint.

use reverse_ajax::pages::catalog::TECHNIQUES;
use rocket::http::{ContentType, Header};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::json;

use crate::common::{client, client_with, publish};
use crate::forever_iframe::script_call;
use crate::streaming::{Stream, head};

const CSP: &str = "Content-Security-Policy";

/// Asserts the headers every HTML page carries, naming `what` on failure.
fn assert_page_headers(response: &LocalResponse<'_>, what: &str) {
    let headers = response.headers();
    assert_eq!(response.content_type(), Some(ContentType::HTML), "{what}");
    let policy = headers
        .get_one(CSP)
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    for wanted in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
    ] {
        assert!(
            policy.contains(wanted),
            "{what}: {wanted} missing in {policy}"
        );
    }
    for loose in ["'unsafe-inline'", "'unsafe-eval'"] {
        assert!(!policy.contains(loose), "{what}: {loose} in {policy}");
    }
    assert_eq!(
        headers.get_one("Referrer-Policy"),
        Some("same-origin"),
        "{what}"
    );
    let permissions = headers.get_one("Permissions-Policy").unwrap_or_default();
    for feature in ["camera=()", "microphone=()", "geolocation=()", "usb=()"] {
        assert!(
            permissions.contains(feature),
            "{what}: {feature} in {permissions}"
        );
    }
    assert_eq!(
        headers.get_one("X-Frame-Options"),
        Some("SAMEORIGIN"),
        "{what}"
    );
    assert_eq!(
        headers.get_one("X-Content-Type-Options"),
        Some("nosniff"),
        "{what}"
    );
}

#[rocket::async_test]
async fn every_page_and_error_page_carries_the_policy_and_the_shield_headers() {
    let client = client().await;
    let pages = TECHNIQUES.iter().map(|t| format!("/{}", t.slug));
    let paths: Vec<String> = ["/".to_owned(), "/nope".to_owned(), "/compare".to_owned()]
        .into_iter()
        .chain(pages)
        .collect();

    for path in paths {
        let response = client.get(path.as_str()).dispatch().await;

        assert_page_headers(&response, &format!("GET {path}"));
    }
}

#[rocket::async_test]
async fn json_answers_carry_no_policy() {
    let client = client().await;

    for path in ["/api/channels/demo/events", "/api/nope"] {
        let response = client.get(path).dispatch().await;

        assert_eq!(response.content_type(), Some(ContentType::JSON), "{path}");
        assert_eq!(response.headers().get_one(CSP), None, "{path}");
        assert_eq!(
            response.headers().get_one("Referrer-Policy"),
            Some("same-origin")
        );
    }
}

/// The iframe document of `demo` from `since` to its end (a small budget ends it), with
/// the nonce of its policy.
async fn whole_iframe(client: &Client, since: &str) -> (String, Vec<String>) {
    let response = client
        .get(format!("/push/demo/iframe?since={since}"))
        .dispatch()
        .await;
    let policy = response.headers().get_one(CSP).expect("a CSP").to_owned();
    let lines = Stream::new(response).rest().await;
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split_once('\''))
        .map(|(nonce, _)| nonce.to_owned())
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    assert!(policy.starts_with("default-src 'none'; "), "{policy}");
    assert!(policy.contains("frame-ancestors 'self'"), "{policy}");
    assert!(!policy.contains("'unsafe-inline'"), "{policy}");
    (nonce, lines)
}

#[rocket::async_test]
async fn every_iframe_script_carries_the_nonce_of_its_own_answer() {
    // Arrange: events already published, and a budget the replay exceeds.
    let client = client_with(|f| f.merge(("push.iframe_budget", 2048))).await;
    let start = head(&client, "demo").await;
    for n in 0..4 {
        publish(&client, "demo", json!({"n": n, "pad": "x".repeat(400)})).await;
    }

    // Act
    let (first, lines) = whole_iframe(&client, &start).await;
    let (second, _) = whole_iframe(&client, &start).await;

    // Assert: events and the end frame are scripts, each with this answer's nonce only.
    let scripts: Vec<&String> = lines.iter().filter(|l| l.contains("<script")).collect();
    assert!(
        scripts.len() >= 2,
        "some events and an end frame: {lines:?}"
    );
    for line in scripts {
        let (nonce, _) = script_call(line).unwrap_or_else(|| panic!("a nonced script: {line}"));
        assert_eq!(nonce, first, "{line}");
    }
    assert_eq!(first.len(), 32);
    assert_ne!(first, second, "a fresh nonce per answer");
}

#[rocket::async_test]
async fn csp_reports_are_accepted_whatever_their_body() {
    let client = client().await;
    let report = json!({"csp-report": {
        "document-uri": "http://localhost/polling",
        "effective-directive": "style-src-attr",
        "blocked-uri": "inline",
    }});
    let csp_report = ContentType::new("application", "csp-report");
    let big = "x".repeat(64 * 1024);

    for body in [report.to_string().as_str(), "", "{", big.as_str()] {
        let response = client
            .post("/api/csp-reports")
            .header(csp_report.clone())
            .header(Header::new("Origin", "http://elsewhere.example"))
            .body(body)
            .dispatch()
            .await;

        assert_eq!(response.status().code, 204, "{} bytes", body.len());
    }
}
