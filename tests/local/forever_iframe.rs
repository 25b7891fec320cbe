//! `GET /push/<ch>/iframe?since=`: the forever iframe's padding, one escaped `<script>` per
//! frame, resume, reset, the byte budget, heartbeats and the slow-subscriber cut-off.

use rocket::http::ContentType;
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, client_with, publish};
use crate::streaming::{
    HEARTBEAT_MS, PATIENCE, Stream, UNKNOWN_EPOCH, assert_hello, assert_stream_headers, at, head,
    ids, quick, run_of,
};

const OPEN: &str = "<script nonce=\"";
const CALL: &str = "\">parent.foreverIframe(";
const CLOSE: &str = ");</script>";

/// The nonce and the JSON of a script line, or `None` for any other line.
pub fn script_call(line: &str) -> Option<(&str, &str)> {
    let (nonce, rest) = line.strip_prefix(OPEN)?.split_once(CALL)?;
    Some((nonce, rest.strip_suffix(CLOSE)?))
}

/// The frame a script line hands to the parent page, or `None` for any other line.
pub fn frame(line: &str) -> Option<Value> {
    let (_, json) = script_call(line)?;
    Some(serde_json::from_str(json).expect("the frame is JSON"))
}

/// Opens the iframe document of `demo` (with `query`) and reads past its padding and its
/// hello.
pub async fn open<'c>(client: &'c Client, query: &str) -> Stream<'c> {
    open_beating(client, query, HEARTBEAT_MS).await
}

/// [`open`] on a server whose heartbeat comes every `heartbeat_ms`.
async fn open_beating<'c>(client: &'c Client, query: &str, heartbeat_ms: u64) -> Stream<'c> {
    let response = client
        .get(format!("/push/demo/iframe{query}"))
        .dispatch()
        .await;
    assert_eq!(response.status().code, 200);
    let mut stream = Stream::new(response);
    let padding = stream.first_chunk().await;
    assert!(
        padding.len() >= 1024,
        "first chunk of {} bytes",
        padding.len()
    );
    let first_script = padding.find("<script").unwrap_or(padding.len());
    assert!(first_script >= 1024, "1 KiB of padding before any frame");
    let hello = next_frame(&mut stream).await.expect("a hello frame");
    assert_hello(&hello, heartbeat_ms);
    stream
}

/// The next frame, skipping heartbeats; `None` at the end of the document.
pub async fn next_frame(stream: &mut Stream<'_>) -> Option<Value> {
    stream.next_matching(frame).await
}

/// The next `count` event envelopes.
async fn events(stream: &mut Stream<'_>, count: usize) -> Vec<Value> {
    let mut events = Vec::new();
    for _ in 0..count {
        let frame = next_frame(stream).await.expect("a frame");
        assert_eq!(frame["type"], json!("event"), "{frame}");
        events.push(frame["event"].clone());
    }
    events
}

#[rocket::async_test]
async fn forever_iframe_is_html_with_the_stream_headers_and_a_padded_first_chunk() {
    let client = client().await;

    let response = client.get("/push/demo/iframe").dispatch().await;

    assert_eq!(response.content_type(), Some(ContentType::HTML));
    assert_stream_headers(&response);
    let mut stream = Stream::new(response);
    let first = stream.first_chunk().await;
    assert!(first.len() >= 1024, "first chunk of {} bytes", first.len());
    assert!(first.starts_with("<!DOCTYPE html>"), "{first}");
}

#[rocket::async_test]
async fn forever_iframe_calls_the_parent_page_once_per_event() {
    let client = client().await;
    let mut stream = open(&client, "").await;

    let id = publish(&client, "demo", json!({"n": 1})).await;

    let event = &events(&mut stream, 1).await[0];
    assert_eq!(event["id"], json!(id));
    assert_eq!(event["channel"], json!("demo"));
    assert_eq!(event["data"], json!({"n": 1}));
}

#[rocket::async_test]
async fn forever_iframe_keeps_script_breakouts_in_payloads_inside_their_script() {
    // Arrange
    let client = client().await;
    let mut stream = open(&client, "").await;
    let evil = "</script><script>alert(1)</script><!-- \u{2028}\u{2029} & -->";

    // Act
    publish(&client, "demo", json!({ "text": evil })).await;

    // Assert: the raw line closes one script (its own) and parses back to the original.
    let line = stream
        .next_matching(|l| l.starts_with(OPEN).then(|| l.to_owned()))
        .await
        .expect("a script line");
    assert_eq!(line.matches("</script>").count(), 1, "{line}");
    assert!(line.ends_with(CLOSE), "{line}");
    assert_eq!(line.matches("<script").count(), 1, "{line}");
    for raw in ["<!--", "-->", "\u{2028}", "\u{2029}"] {
        assert!(!line.contains(raw), "{raw:?} is raw in {line}");
    }
    assert_eq!(
        frame(&line).expect("a frame")["event"]["data"]["text"],
        json!(evil)
    );
}

#[rocket::async_test]
async fn forever_iframe_resumes_from_since_with_exactly_the_later_events() {
    // Arrange: read 3 of 10, then drop the document.
    let client = client().await;
    let mut first = open(&client, "").await;
    let mut sent = Vec::new();
    for n in 1..=10 {
        sent.push(publish(&client, "demo", json!(n)).await);
    }
    assert_eq!(ids(&events(&mut first, 3).await), sent[..3]);
    drop(first);

    // Act
    let mut again = open(&client, &format!("?since={}", sent[2])).await;

    // Assert
    assert_eq!(ids(&events(&mut again, 7).await), sent[3..]);
    let marker = publish(&client, "demo", json!("marker")).await;
    assert_eq!(ids(&events(&mut again, 1).await), [marker]);
}

#[rocket::async_test]
async fn forever_iframe_sends_a_reset_frame_first_when_the_epoch_is_unknown() {
    let client = client().await;
    let held = publish(&client, "demo", json!(1)).await;

    let mut stream = open(&client, &format!("?since={UNKNOWN_EPOCH}")).await;

    let reset = next_frame(&mut stream).await.expect("a frame");
    assert_eq!(
        reset,
        json!({"type": "reset", "next": at(&held, 0), "reason": "unknown_epoch"})
    );
    assert_eq!(ids(&events(&mut stream, 1).await), [held]);
    let marker = publish(&client, "demo", json!("after")).await;
    assert_eq!(ids(&events(&mut stream, 1).await), [marker]);
}

#[rocket::async_test]
async fn forever_iframe_ends_with_a_budget_frame_after_its_byte_budget_and_resumes() {
    // Arrange: a 4 KiB budget and 10 events of about 500 bytes each.
    let client = client_with(|f| f.merge(("push.iframe_budget", 4096))).await;
    let response = client.get("/push/demo/iframe").dispatch().await;
    let mut stream = Stream::new(response);
    let mut sent = Vec::new();
    for n in 0..10 {
        sent.push(publish(&client, "demo", json!({"n": n, "pad": "x".repeat(500)})).await);
    }

    // Act
    let lines = stream.rest().await;

    // Assert: an end frame closes the document once the budget is spent.
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum::<usize>();
    assert!(bytes >= 4096, "ended after {bytes} bytes");
    assert_eq!(lines.last().map(String::as_str), Some("</body></html>"));
    let frames: Vec<Value> = lines.iter().filter_map(|l| frame(l)).collect();
    assert_hello(&frames[0], HEARTBEAT_MS);
    let end = frames.last().expect("an end frame");
    assert_eq!(end["type"], json!("end"));
    assert_eq!(end["reason"], json!("budget"));
    let delivered: Vec<Value> = frames[1..frames.len() - 1]
        .iter()
        .map(|f| f["event"].clone())
        .collect();
    let delivered = ids(&delivered);
    assert!(delivered.len() < 10, "the budget cut the stream short");
    assert_eq!(end["next"], json!(delivered.last().expect("some events")));
    let mut again = open(
        &client,
        &format!("?since={}", end["next"].as_str().expect("next")),
    )
    .await;
    let rest = ids(&events(&mut again, 10 - delivered.len()).await);
    assert_eq!([delivered, rest].concat(), sent);
}

#[rocket::async_test]
async fn forever_iframe_sends_heartbeat_comments_while_the_channel_is_quiet() {
    let client = client_with(quick).await;
    let mut stream = open_beating(&client, "", 100).await;

    let beat = stream
        .next_matching(|l| (l == "<!-- heartbeat -->").then_some(()))
        .await;

    assert!(beat.is_some(), "a heartbeat within {PATIENCE:?}");
}

#[rocket::async_test]
async fn forever_iframe_ends_a_subscriber_that_falls_behind_and_it_resumes_without_loss() {
    // Arrange: a queue of 4 and a reader that reads nothing while 20 events are published.
    let client = client_with(|f| f.merge(("hub.subscriber_queue", 4))).await;
    let mut slow = open(&client, "").await;
    let start = head(&client, "demo").await;
    let mut sent = Vec::new();
    for n in 0..20 {
        sent.push(publish(&client, "demo", json!(n)).await);
    }

    // Act
    let end = next_frame(&mut slow).await.expect("an end frame");

    // Assert
    assert_eq!(
        end,
        json!({"type": "end", "reason": "lagged", "next": start})
    );
    assert_eq!(slow.rest().await, ["</body></html>"]);
    let mut again = open(&client, &format!("?since={start}")).await;
    assert_eq!(ids(&events(&mut again, 20).await), sent);
    assert_eq!(sent, run_of(&sent[0], 20));
}

#[rocket::async_test]
async fn forever_iframe_sends_the_events_that_are_ready_in_one_chunk_of_scripts() {
    // Arrange: a reader that is five events behind, one of them with markup in it.
    let client = client().await;
    let mut stream = open(&client, "").await;
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(publish(&client, "demo", json!({"n": n, "html": "</script><b>"})).await);
    }

    // Act
    let chunk = stream.chunk().await;

    // Assert: one script per event, each a complete frame.
    let frames: Vec<Value> = chunk
        .lines()
        .map(|l| frame(l).expect("a script line"))
        .collect();
    let envelopes: Vec<Value> = frames.iter().map(|f| f["event"].clone()).collect();
    assert_eq!(
        ids(&envelopes),
        sent,
        "all five events in one chunk, in order"
    );
    assert!(!chunk.contains("</script><b>"), "markup in data is escaped");
    assert_eq!(
        envelopes[4]["data"],
        json!({"n": 4, "html": "</script><b>"})
    );
}
