//! `GET /push/<ch>/script?since=&callback=`: long polling answered as JSONP, its callbacks,
//! escaping, resume, reset and cap.

use std::time::{Duration, Instant};

use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{Value, json};

use crate::common::{client, client_with, encode, json_error, publish, within};
use crate::long_polling::long_cap;
use crate::streaming::{PATIENCE, Stream, UNKNOWN_EPOCH, assert_stream_headers, head, quick};

/// Starts a script long poll of `demo` with callback `cb` and the extra query `query`.
pub async fn start<'c>(client: &'c Client, query: &str) -> LocalResponse<'c> {
    let response = client
        .get(format!("/push/demo/script?callback=cb{query}"))
        .dispatch()
        .await;
    assert_eq!(response.status().code, 200, "script long poll {query}");
    response
}

/// The object passed to `cb` in a JSONP body after its probe spaces.
pub fn call(body: &str) -> Value {
    let inner = body
        .trim_start()
        .strip_prefix("/**/cb(")
        .and_then(|rest| rest.strip_suffix(");"))
        .unwrap_or_else(|| panic!("not a JSONP call of cb: {body:?}"));
    serde_json::from_str(inner).expect("the argument is JSON")
}

/// The whole answer of a held script request, as the argument of its callback.
pub async fn answer(response: LocalResponse<'_>) -> (String, Value) {
    let body = within(PATIENCE, response.into_string())
        .await
        .expect("a body");
    let value = call(&body);
    (body, value)
}

fn ids(batch: &Value) -> Vec<String> {
    crate::streaming::ids(batch["events"].as_array().expect("events"))
}

#[rocket::async_test]
async fn script_long_poll_answers_pending_events_at_once_as_jsonp() {
    // Arrange
    let client = client_with(long_cap).await;
    let since = head(&client, "demo").await;
    let id = publish(&client, "demo", json!("</script><!-- \u{2028}")).await;

    // Act
    let response = start(&client, &format!("&since={since}")).await;

    // Assert: JSONP headers and a script that keeps the payload inside it.
    let content_type = response.content_type().expect("a content type");
    assert_eq!(content_type.to_string(), "text/javascript; charset=utf-8");
    assert_stream_headers(&response);
    let (body, batch) = within(Duration::from_secs(2), answer(response)).await;
    assert!(
        body.starts_with("/**/cb("),
        "answered without waiting: {body:?}"
    );
    for raw in ["</script>", "<!--", "\u{2028}"] {
        assert!(!body.contains(raw), "{raw:?} is raw in {body}");
    }
    assert_eq!(ids(&batch), [id]);
    assert_eq!(batch["events"][0]["data"], json!("</script><!-- \u{2028}"));
}

#[rocket::async_test]
async fn script_long_poll_holds_until_an_event_is_published_and_answers_with_it() {
    let client = client_with(long_cap).await;
    let since = head(&client, "demo").await;
    let mut held = Stream::new(start(&client, &format!("&since={since}")).await);
    assert_eq!(
        held.first_chunk().await.trim(),
        "",
        "a probe space while held"
    );

    let id = publish(&client, "demo", json!("news")).await;

    let batch = call(&held.rest().await.concat());
    assert_eq!(ids(&batch), [id]);
}

#[rocket::async_test]
async fn script_long_poll_answers_an_empty_batch_at_the_cap() {
    let client = client_with(quick).await;
    let since = head(&client, "demo").await;
    let started = Instant::now();

    let query = format!("&since={since}&timeout=60000");
    let (_, batch) = answer(start(&client, &query).await).await;

    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "held until the cap"
    );
    assert_eq!(batch, json!({"events": [], "next": since, "reset": false}));
}

#[rocket::async_test]
async fn script_long_poll_resumes_from_since_with_exactly_the_later_events() {
    // Arrange: a client reads the first 3 events, goes away, and 7 more are published.
    let client = client().await;
    let since = head(&client, "demo").await;
    let mut sent = Vec::new();
    for n in 1..=3 {
        sent.push(publish(&client, "demo", json!(n)).await);
    }
    let (_, first) = answer(start(&client, &format!("&since={since}")).await).await;
    assert_eq!(ids(&first), sent);
    for n in 4..=10 {
        sent.push(publish(&client, "demo", json!(n)).await);
    }

    // Act
    let cursor = first["next"].as_str().expect("next");
    let (_, batch) = answer(start(&client, &format!("&since={cursor}")).await).await;

    // Assert
    assert_eq!(ids(&batch), sent[3..]);
    assert_eq!(batch["next"], json!(sent[9]));
}

#[rocket::async_test]
async fn script_long_poll_says_reset_at_once_when_the_epoch_is_unknown() {
    let client = client_with(long_cap).await;
    let id = publish(&client, "demo", json!("held")).await;

    let response = start(&client, &format!("&since={UNKNOWN_EPOCH}")).await;
    let (_, batch) = within(Duration::from_secs(2), answer(response)).await;

    assert_eq!(
        ids(&batch),
        std::slice::from_ref(&id),
        "the held event comes"
    );
    assert_eq!(
        batch,
        json!({"events": batch["events"], "next": id, "reset": true, "reset_reason": "unknown_epoch"})
    );
}

#[rocket::async_test]
async fn script_long_poll_refuses_bad_callbacks_with_a_400_that_does_not_echo_them() {
    let client = client().await;
    for bad in [
        "alert(1)//",
        "<script>x",
        "a..b",
        "evil-name",
        &"a".repeat(65),
    ] {
        let uri = format!("/push/demo/script?callback={}", encode(bad));

        let body = json_error(client.get(uri).dispatch().await, 400).await;

        assert!(!body.contains(bad), "the refusal echoes {bad:?}: {body}");
    }
    json_error(client.get("/push/demo/script").dispatch().await, 400).await;
}
