//! `GET /push/<ch>/long-poll?since=`: held until an event or the server's cap, answered at once
//! when events are pending, resume and reset.

use std::time::{Duration, Instant};

use rocket::http::ContentType;
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{Value, json};

use crate::common::{client, client_with, publish, within};
use crate::streaming::{
    PATIENCE, Stream, UNKNOWN_EPOCH, assert_stream_headers, head, quick, run_of,
};

/// A cap long enough that an answer before it cannot be the cap's doing.
pub fn long_cap(figment: rocket::figment::Figment) -> rocket::figment::Figment {
    figment
        .merge(("push.long_poll_max_ms", 20_000))
        .merge(("push.probe_ms", 50))
}

/// Starts a long poll of `demo` with the query string `query`.
pub async fn start<'c>(client: &'c Client, query: &str) -> LocalResponse<'c> {
    let response = client
        .get(format!("/push/demo/long-poll{query}"))
        .dispatch()
        .await;
    assert_eq!(response.status().code, 200, "long poll {query}");
    response
}

/// The whole answer of a held request: probe spaces, then the JSON.
pub async fn answer(response: LocalResponse<'_>) -> (String, Value) {
    let body = within(PATIENCE, response.into_string())
        .await
        .expect("a body");
    let json = serde_json::from_str(body.trim_start()).expect("JSON after the probe spaces");
    (body, json)
}

/// The ids of a batch's events.
fn ids(batch: &Value) -> Vec<String> {
    let events = batch["events"].as_array().expect("an events array");
    crate::streaming::ids(events)
}

#[rocket::async_test]
async fn long_poll_answers_at_once_with_every_pending_event() {
    // Arrange: a 20 s cap, three events after the cursor.
    let client = client_with(long_cap).await;
    let start_at = head(&client, "demo").await;
    for n in 1..=3 {
        publish(&client, "demo", json!(n)).await;
    }

    // Act
    let response = start(&client, &format!("?since={start_at}")).await;

    // Assert: JSON with the stream headers, no probe space before it, all three events.
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    assert_stream_headers(&response);
    let (body, batch) = within(Duration::from_secs(2), answer(response)).await;
    assert!(body.starts_with('{'), "answered without waiting: {body:?}");
    let sent = run_of(&crate::streaming::plus(&start_at, 1), 3);
    assert_eq!(ids(&batch), sent);
    assert_eq!(batch["next"], json!(sent[2]));
    assert_eq!(batch["reset"], json!(false));
}

#[rocket::async_test]
async fn long_poll_holds_until_an_event_is_published_and_answers_with_it() {
    // Arrange: a held poll, shown to be waiting by its first probe space.
    let client = client_with(long_cap).await;
    let since = head(&client, "demo").await;
    let mut held = Stream::new(start(&client, &format!("?since={since}")).await);
    assert_eq!(
        held.first_chunk().await.trim(),
        "",
        "a probe space while held"
    );

    // Act
    let id = publish(&client, "demo", json!("news")).await;

    // Assert
    let body = held.rest().await.concat();
    let batch: Value = serde_json::from_str(body.trim_start()).expect("JSON");
    assert_eq!(ids(&batch), std::slice::from_ref(&id));
    assert_eq!(batch["events"][0]["data"], json!("news"));
    assert_eq!(batch["next"], json!(id));
}

#[rocket::async_test]
async fn long_poll_answers_an_empty_batch_at_the_cap() {
    let client = client_with(quick).await;
    let since = head(&client, "demo").await;
    let started = Instant::now();

    let (_, batch) = answer(start(&client, &format!("?since={since}")).await).await;

    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "held until the cap"
    );
    assert_eq!(batch, json!({"events": [], "next": since, "reset": false}));
}

#[rocket::async_test]
async fn long_poll_cap_holds_whatever_timeout_the_client_asks_for() {
    // There is no client timeout parameter; an unknown one is ignored, never obeyed.
    let client = client_with(quick).await;
    let since = head(&client, "demo").await;
    let started = Instant::now();

    let query = format!("?since={since}&timeout=60000&timeout_ms=60000");
    let (_, batch) = answer(start(&client, &query).await).await;

    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "held until the cap");
    assert!(
        waited < PATIENCE,
        "the 300 ms cap, not 60 s, bounds the wait"
    );
    assert_eq!(batch["events"], json!([]));
}

#[rocket::async_test]
async fn long_poll_resumes_from_since_with_exactly_the_later_events() {
    // Arrange: a client reads the first 3 events, goes away, and 7 more are published.
    let client = client().await;
    let since = head(&client, "demo").await;
    let mut sent = Vec::new();
    for n in 1..=3 {
        sent.push(publish(&client, "demo", json!(n)).await);
    }
    let (_, first) = answer(start(&client, &format!("?since={since}")).await).await;
    assert_eq!(ids(&first), sent);
    for n in 4..=10 {
        sent.push(publish(&client, "demo", json!(n)).await);
    }

    // Act
    let cursor = first["next"].as_str().expect("next");
    let (_, batch) = answer(start(&client, &format!("?since={cursor}")).await).await;

    // Assert
    assert_eq!(ids(&batch), sent[3..]);
    assert_eq!(batch["next"], json!(sent[9]));
}

#[rocket::async_test]
async fn long_poll_says_reset_at_once_when_the_epoch_is_unknown() {
    let client = client_with(long_cap).await;
    publish(&client, "demo", json!(1)).await;
    let head = head(&client, "demo").await;

    let response = start(&client, &format!("?since={UNKNOWN_EPOCH}")).await;
    let (_, batch) = within(Duration::from_secs(2), answer(response)).await;

    assert_eq!(
        batch["events"][0]["id"],
        json!(head),
        "the held event comes"
    );
    assert_eq!(
        batch,
        json!({"events": batch["events"], "next": head, "reset": true, "reset_reason": "unknown_epoch"})
    );
}

#[rocket::async_test]
async fn long_poll_says_reset_at_once_on_an_empty_channel_too() {
    let client = client_with(long_cap).await;
    let head = head(&client, "demo").await;

    let response = start(&client, &format!("?since={UNKNOWN_EPOCH}")).await;
    let (_, batch) = within(Duration::from_secs(2), answer(response)).await;

    assert_eq!(
        batch,
        json!({"events": [], "next": head, "reset": true, "reset_reason": "unknown_epoch"})
    );
}
