//! `GET /push/<ch>/multipart?since=`: `multipart/x-mixed-replace` parts, a boundary that is
//! random per response and never inside a part, resume and reset.

use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, publish};
use crate::streaming::{
    HEARTBEAT_MS, Stream, UNKNOWN_EPOCH, assert_hello, assert_stream_headers, at, ids,
};

/// An open multipart stream and its boundary.
pub struct Parts<'c> {
    pub stream: Stream<'c>,
    pub boundary: String,
}

/// Opens the multipart stream of `demo` with `query` and reads its hello part.
pub async fn open<'c>(client: &'c Client, query: &str) -> Parts<'c> {
    let uri = format!("/push/demo/multipart{query}");
    let response = client.get(uri).dispatch().await;
    assert_eq!(response.status().code, 200);
    let content_type = response.content_type().expect("a content type");
    assert_eq!(
        (content_type.top().as_str(), content_type.sub().as_str()),
        ("multipart", "x-mixed-replace")
    );
    let boundary = content_type
        .params()
        .find_map(|(k, v)| (k == "boundary").then(|| v.to_owned()))
        .expect("a boundary parameter");
    assert_stream_headers(&response);
    let mut parts = Parts {
        stream: Stream::new(response),
        boundary,
    };
    let hello = parts.part().await.expect("a hello part");
    assert_hello(&hello, HEARTBEAT_MS);
    parts
}

impl Parts<'_> {
    /// The next part's JSON, or `None` once the closing delimiter arrives.
    pub async fn part(&mut self) -> Option<Value> {
        let b = &self.boundary;
        let delimiter = self.stream.line().await.expect("a delimiter");
        if delimiter == format!("--{b}--") {
            return None;
        }
        assert_eq!(delimiter, format!("--{b}"));
        let header = self.stream.line().await;
        assert_eq!(header.as_deref(), Some("Content-Type: application/json"));
        assert_eq!(self.stream.line().await.as_deref(), Some(""));
        let body = self.stream.line().await.expect("a part body");
        assert!(
            !body.contains(b.as_str()),
            "the boundary inside a part: {body}"
        );
        Some(serde_json::from_str(&body).expect("a JSON part"))
    }

    /// The next part that is not a heartbeat.
    pub async fn frame(&mut self) -> Option<Value> {
        loop {
            let part = self.part().await?;
            if part["type"] != json!("heartbeat") {
                return Some(part);
            }
        }
    }

    /// The next `count` event envelopes.
    async fn events(&mut self, count: usize) -> Vec<Value> {
        let mut events = Vec::new();
        for _ in 0..count {
            let part = self.frame().await.expect("an event part");
            assert!(part.get("type").is_none(), "an envelope, not {part}");
            events.push(part);
        }
        events
    }
}

#[rocket::async_test]
async fn multipart_stream_sends_one_json_part_per_event() {
    let client = client().await;
    let mut parts = open(&client, "").await;

    let id = publish(&client, "demo", json!({"n": 1})).await;

    let event = &parts.events(1).await[0];
    assert_eq!(event["id"], json!(id));
    assert_eq!(event["channel"], json!("demo"));
    assert_eq!(event["data"], json!({"n": 1}));
}

#[rocket::async_test]
async fn multipart_boundary_is_random_per_response() {
    let client = client().await;

    let one = open(&client, "").await.boundary;
    let two = open(&client, "").await.boundary;

    assert_ne!(one, two);
    assert!(
        one.len() >= 16,
        "a boundary long enough to be unguessable: {one}"
    );
}

#[rocket::async_test]
async fn multipart_boundary_never_occurs_inside_a_part_whatever_the_payload() {
    // Arrange: a payload that knows this response's boundary.
    let client = client().await;
    let mut parts = open(&client, "").await;
    let evil = format!("\r\n--{b}\r\n\r\n{{}}\r\n--{b}--\r\n", b = parts.boundary);

    // Act
    publish(&client, "demo", json!({ "text": evil })).await;

    // Assert: `part` checks the body has no boundary; the JSON still means the payload.
    let event = &parts.events(1).await[0];
    assert_eq!(event["data"]["text"], json!(evil));
}

#[rocket::async_test]
async fn multipart_stream_resumes_from_since_with_exactly_the_later_events() {
    // Arrange: read 3 of 10, then drop the connection.
    let client = client().await;
    let mut first = open(&client, "").await;
    let mut sent = Vec::new();
    for n in 1..=10 {
        sent.push(publish(&client, "demo", json!(n)).await);
    }
    assert_eq!(ids(&first.events(3).await), sent[..3]);
    drop(first);

    // Act
    let mut again = open(&client, &format!("?since={}", sent[2])).await;

    // Assert
    assert_eq!(ids(&again.events(7).await), sent[3..]);
    let marker = publish(&client, "demo", json!("marker")).await;
    assert_eq!(ids(&again.events(1).await), [marker]);
}

#[rocket::async_test]
async fn multipart_stream_sends_a_reset_part_first_when_the_epoch_is_unknown() {
    let client = client().await;
    let held = publish(&client, "demo", json!(1)).await;

    let mut parts = open(&client, &format!("?since={UNKNOWN_EPOCH}")).await;

    let reset = parts.frame().await.expect("a part");
    assert_eq!(
        reset,
        json!({"type": "reset", "next": at(&held, 0), "reason": "unknown_epoch"})
    );
    assert_eq!(ids(&parts.events(1).await), [held]);
    let marker = publish(&client, "demo", json!("after")).await;
    assert_eq!(ids(&parts.events(1).await), [marker]);
}

#[rocket::async_test]
async fn multipart_sends_the_events_that_are_ready_in_one_chunk_of_parts() {
    // Arrange: a reader that is five events behind.
    let client = client().await;
    let mut parts = open(&client, "").await;
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(publish(&client, "demo", json!({"n": n})).await);
    }

    // Act
    let chunk = parts.stream.first_chunk().await;
    let mut envelopes = Vec::new();
    for _ in 0..5 {
        envelopes.push(parts.part().await.expect("a part"));
    }

    // Assert
    assert_eq!(
        chunk.matches(&format!("--{}\r\n", parts.boundary)).count(),
        5
    );
    assert_eq!(
        ids(&envelopes),
        sent,
        "all five events in one chunk, in order"
    );
}
