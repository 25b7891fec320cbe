//! The harness every integration test binary shares: the real application on Rocket's local
//! asynchronous client (ticker off), a publish helper, and `within`, which turns a hang into
//! a failure with a message.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use std::future::Future;
use std::time::Duration;

use rocket::figment::Figment;
use rocket::http::{ContentType, RawStr};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::Value;

pub mod launcher;

/// Opens every channel to anonymous publishers and lifts the per-client limits, which the
/// suites that are not about access control would otherwise keep hitting (they publish
/// on channels of their own, hundreds of events at a time, from one address). The access
/// tests start from the shipped defaults instead.
pub fn open_access(figment: Figment) -> Figment {
    figment
        .merge(("auth.public_publish", ["*"]))
        .merge(("clients.publish_per_ip", 1_000_000))
        .merge(("clients.held_per_ip", 100_000))
        .merge(("clients.held_max", 100_000))
}

/// The application with the demo ticker off, so that no event appears unasked.
pub async fn client() -> Client {
    client_with(|figment| figment).await
}

/// The configuration every test starts from: Rocket's defaults with every channel open
/// ([`open_access`]), the demo ticker off, so that no event appears unasked, and no log.
pub fn figment() -> Figment {
    open_access(rocket::Config::figment())
        .merge(("ticker.enabled", false))
        .merge(("log_level", "off"))
}

/// Like [`client`], with `change` applied to the configuration last (it may turn the ticker
/// back on or set any `hub`, `publish` or Rocket key).
pub async fn client_with(change: impl FnOnce(Figment) -> Figment) -> Client {
    Client::tracked(reverse_ajax::rocket_from(change(figment())))
        .await
        .expect("the application ignites")
}

/// Publishes `data` as JSON on channel `ch` through the API and returns the new event's id.
pub async fn publish(client: &Client, ch: &str, data: Value) -> String {
    let response = client
        .post(format!("/api/channels/{ch}/events"))
        .header(ContentType::JSON)
        .body(data.to_string())
        .dispatch()
        .await;
    assert_eq!(response.status().code, 201, "publishing {data} on {ch}");
    let body: Value = response.into_json().await.expect("a JSON answer");
    body["id"].as_str().expect("an id string").to_owned()
}

/// Awaits `fut`, failing the test with a message if it takes longer than `limit`.
pub async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, fut).await {
        Ok(value) => value,
        Err(_) => panic!("gave up after waiting {limit:?}"),
    }
}

/// `text` percent-encoded by Rocket for a query value or a form field: every byte that could
/// end or change the value (`&`, `=`, `+`, `%`, `#`, spaces, controls, non-ASCII) is escaped.
pub fn encode(text: &str) -> String {
    RawStr::new(text).percent_encode().to_string()
}

/// Checks that `response` is a JSON error with status `code` and a non-empty `error` string,
/// and returns the whole body as text (to check what it does not contain).
pub async fn json_error(response: LocalResponse<'_>, code: u16) -> String {
    assert_eq!(
        response.status().code,
        code,
        "status of {:?}",
        response.content_type()
    );
    let content_type = response.content_type().expect("a content type");
    assert!(
        content_type.is_json(),
        "an error answer is JSON, not {content_type}"
    );
    let text = response.into_string().await.expect("a body");
    let body: Value = serde_json::from_str(&text).expect("the error body parses as JSON");
    let message = body["error"].as_str().expect("an `error` string");
    assert!(!message.is_empty(), "the error says what is wrong");
    text
}
