//! `GET /push/<ch>/sse`: Server-Sent Events framing, resume by `Last-Event-ID` or
//! `?last_event_id=`, reset, heartbeats and the slow-subscriber cut-off.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use rocket::http::{ContentType, Header};
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, client_with, publish};
use crate::streaming::{
    HEARTBEAT_MS, Stream, UNKNOWN_EPOCH, assert_hello, assert_stream_headers, at, head, quick,
    run_of,
};

/// One SSE message: the lines between two blank lines.
#[derive(Debug)]
pub struct Message(pub Vec<String>);

impl Message {
    /// The value of the first `name:` line.
    pub fn field(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}: ");
        self.0.iter().find_map(|l| l.strip_prefix(prefix.as_str()))
    }

    /// The `data:` line parsed as JSON.
    pub fn data(&self) -> Value {
        serde_json::from_str(self.field("data").expect("a data line")).expect("JSON data")
    }

    fn is_comment(&self) -> bool {
        self.0.iter().all(|l| l.starts_with(':'))
    }
}

/// The next message, comments included; `None` at the end of the stream.
pub async fn message(stream: &mut Stream<'_>) -> Option<Message> {
    let mut lines = Vec::new();
    loop {
        match stream.line().await {
            None if lines.is_empty() => return None,
            None => return Some(Message(lines)),
            Some(line) if line.is_empty() && !lines.is_empty() => return Some(Message(lines)),
            Some(line) if line.is_empty() => {}
            Some(line) => lines.push(line),
        }
    }
}

/// The next message that carries data, skipping heartbeats, `retry:` hints and the hello
/// (which [`open`] checks).
pub async fn data_message(stream: &mut Stream<'_>) -> Option<Message> {
    loop {
        let message = message(stream).await?;
        let hello = message.field("event") == Some("hello");
        if !message.is_comment() && !hello && message.field("data").is_some() {
            return Some(message);
        }
    }
}

/// The ids of the next `count` events.
async fn next_ids(stream: &mut Stream<'_>, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let message = data_message(stream).await.expect("an event");
        ids.push(message.field("id").expect("an id").to_owned());
    }
    ids
}

/// Reads the `event: hello` that follows the `retry:` hint, and checks it.
async fn hello(stream: &mut Stream<'_>, heartbeat_ms: u64) {
    let hello = message(stream).await.expect("a hello");
    assert_eq!(hello.0.len(), 2, "an event line and a data line: {hello:?}");
    assert_eq!(hello.field("event"), Some("hello"), "{hello:?}");
    assert_hello(&hello.data(), heartbeat_ms);
}

/// Opens the stream of `demo` with `query` and, when given, a `Last-Event-ID` header, and
/// reads past the opening `retry:` hint and hello.
pub async fn open<'c>(client: &'c Client, query: &str, last: Option<&str>) -> Stream<'c> {
    open_beating(client, query, last, HEARTBEAT_MS).await
}

/// [`open`] on a server whose heartbeat comes every `heartbeat_ms`.
async fn open_beating<'c>(
    client: &'c Client,
    query: &str,
    last: Option<&str>,
    heartbeat_ms: u64,
) -> Stream<'c> {
    let mut request = client.get(format!("/push/demo/sse{query}"));
    if let Some(id) = last {
        request = request.header(Header::new("Last-Event-ID", id.to_owned()));
    }
    let response = request.dispatch().await;
    assert_eq!(response.status().code, 200);
    let mut stream = Stream::new(response);
    let hint = message(&mut stream).await.expect("a first message");
    assert_eq!(hint.0, ["retry: 2000"]);
    hello(&mut stream, heartbeat_ms).await;
    stream
}

/// Publishes `count` events on `demo` and returns their ids.
async fn publish_many(client: &Client, count: u64) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 1..=count {
        ids.push(publish(client, "demo", json!({ "n": n })).await);
    }
    ids
}

#[rocket::async_test]
async fn sse_streams_each_event_with_its_id_and_the_stream_headers() {
    // Arrange
    let client = client().await;
    let response = client.get("/push/demo/sse").dispatch().await;
    assert_eq!(response.content_type(), Some(ContentType::EventStream));
    assert_stream_headers(&response);
    let mut stream = Stream::new(response);
    assert_eq!(message(&mut stream).await.expect("hint").0, ["retry: 2000"]);
    hello(&mut stream, HEARTBEAT_MS).await;

    // Act
    let id = publish(&client, "demo", json!({"text": "two\nlines"})).await;

    // Assert
    let event = data_message(&mut stream).await.expect("an event");
    assert_eq!(event.0.len(), 2, "one id and one data line: {event:?}");
    assert_eq!(event.field("id"), Some(id.as_str()));
    let envelope = event.data();
    assert_eq!(envelope["id"], json!(id));
    assert_eq!(envelope["channel"], json!("demo"));
    assert_eq!(envelope["data"], json!({"text": "two\nlines"}));
}

#[rocket::async_test]
async fn sse_resumes_from_the_last_event_id_header_with_exactly_the_later_events() {
    // Arrange: read 3 of 10, then drop the connection.
    let client = client().await;
    let mut first = open(&client, "", None).await;
    let sent = publish_many(&client, 10).await;
    assert_eq!(next_ids(&mut first, 3).await, sent[..3]);
    drop(first);

    // Act
    let mut again = open(&client, "", Some(&sent[2])).await;

    // Assert: 4 to 10 in order, then nothing but what comes next.
    assert_eq!(next_ids(&mut again, 7).await, sent[3..]);
    let marker = publish(&client, "demo", json!("marker")).await;
    assert_eq!(next_ids(&mut again, 1).await, [marker]);
}

#[rocket::async_test]
async fn sse_resumes_from_the_last_event_id_query_parameter() {
    let client = client().await;
    let sent = publish_many(&client, 10).await;

    let mut stream = open(&client, &format!("?last_event_id={}", sent[2]), None).await;

    assert_eq!(next_ids(&mut stream, 7).await, sent[3..]);
    let marker = publish(&client, "demo", json!("marker")).await;
    assert_eq!(next_ids(&mut stream, 1).await, [marker]);
}

#[rocket::async_test]
async fn sse_prefers_the_last_event_id_header_to_the_query_parameter() {
    let client = client().await;
    let sent = publish_many(&client, 10).await;

    let query = format!("?last_event_id={}", sent[1]);
    let mut stream = open(&client, &query, Some(&sent[6])).await;

    assert_eq!(next_ids(&mut stream, 3).await, sent[7..]);
}

#[rocket::async_test]
async fn sse_says_reset_before_any_data_when_the_epoch_is_unknown() {
    // Arrange
    let client = client().await;
    let held = publish_many(&client, 2).await;
    let start = at(&held[0], 0);

    // Act
    let mut stream = open(&client, "", Some(UNKNOWN_EPOCH)).await;

    // Assert: the reset comes first and moves the browser's cursor to the start of the
    // history, whose events follow.
    let reset = data_message(&mut stream).await.expect("a reset");
    assert_eq!(reset.field("event"), Some("reset"));
    assert_eq!(reset.field("id"), Some(start.as_str()));
    assert_eq!(
        reset.data(),
        json!({"next": start, "reason": "unknown_epoch"})
    );
    assert_eq!(next_ids(&mut stream, 2).await, held);
    let marker = publish(&client, "demo", json!("after")).await;
    assert_eq!(next_ids(&mut stream, 1).await, [marker]);
}

#[rocket::async_test]
async fn sse_sends_heartbeat_comments_while_the_channel_is_quiet() {
    let client = client_with(quick).await;

    let mut stream = open_beating(&client, "", None, 100).await;

    let beat = message(&mut stream).await.expect("a heartbeat");
    assert_eq!(beat.0, [": heartbeat"]);
    let beat = message(&mut stream).await.expect("another heartbeat");
    assert_eq!(beat.0, [": heartbeat"]);
}

#[rocket::async_test]
async fn sse_ends_the_stream_of_a_subscriber_that_falls_behind_and_it_resumes_without_loss() {
    // Arrange: a queue of 4 and a reader that reads nothing while 20 events are published.
    let client = client_with(|f| f.merge(("hub.subscriber_queue", 4))).await;
    let start = head(&client, "demo").await;
    let mut slow = open(&client, "", Some(&start)).await;
    let sent = publish_many(&client, 20).await;

    // Act
    let rest = slow.rest().await;

    // Assert: the stream ended without events; resuming from the cursor loses nothing.
    assert!(rest.iter().all(|l| !l.starts_with("data:")), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("resume")), "{rest:?}");
    let mut again = open(&client, "", Some(&start)).await;
    assert_eq!(next_ids(&mut again, 20).await, sent);
    assert_eq!(sent, run_of(&sent[0], 20));
}

#[rocket::async_test]
async fn sse_sends_the_events_that_are_ready_in_one_chunk_that_a_real_parser_reads() {
    // Arrange: a subscriber that is five events behind by the time it reads.
    let client = client().await;
    let response = client.get("/push/demo/sse").dispatch().await;
    let mut stream = Stream::new(response);
    let opening = stream.chunk().await;
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(publish(&client, "demo", json!({"n": n, "text": "a\nb: c"})).await);
    }

    // Act
    let chunk = stream.chunk().await;
    let parsed: Vec<_> = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(chunk)])
        .eventsource()
        .collect()
        .await;

    // Assert
    assert!(opening.starts_with("retry:"), "{opening:?}");
    assert!(opening.contains("\nevent: hello\n"), "{opening:?}");
    let events: Vec<_> = parsed
        .into_iter()
        .map(|e| e.expect("a well-formed event"))
        .collect();
    let ids: Vec<_> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, sent, "all five events in one chunk, in order");
    for (n, event) in events.iter().enumerate() {
        let envelope: Value = serde_json::from_str(&event.data).expect("JSON data");
        assert_eq!(envelope["id"], json!(sent[n]));
        assert_eq!(envelope["data"], json!({"n": n, "text": "a\nb: c"}));
    }
}
