//! `GET /push/<ch>/ws?since=` over a real socket: envelopes as text frames, publishing from
//! the client, resume, reset, the slow-subscriber close and the shutdown close.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rocket::tokio::net::TcpStream;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::common::within;
use crate::launcher::{App, launch, launch_with};

/// A client's end of a WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long one frame may take to arrive.
const PATIENCE: Duration = Duration::from_secs(5);

/// The ping interval of the shipped configuration, which a WebSocket's hello announces.
const PING_MS: u64 = 25_000;

/// Opens `/push/demo/ws{query}` with no `Origin` header and reads its hello.
pub async fn connect(app: &App, query: &str) -> Socket {
    let url = app.ws(&format!("/push/demo/ws{query}"));
    let (mut socket, _) = within(PATIENCE, connect_async(url))
        .await
        .expect("the handshake succeeds");
    hello(&mut socket).await;
    socket
}

/// Reads the first frame of a socket and checks that it is the hello: the server's time in
/// milliseconds since the Unix epoch and the ping interval, nothing else.
pub async fn hello(socket: &mut Socket) {
    let hello = next_json(socket).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis() as u64;
    let time = hello["time"].as_u64().expect("a time in ms");
    assert!(time.abs_diff(now) < 60_000, "time {time}, now {now}");
    assert_eq!(
        hello,
        json!({"type": "hello", "time": time, "heartbeat_ms": PING_MS})
    );
}

/// The next text frame, as JSON; fails on anything else but pings and pongs.
pub async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = within(PATIENCE, socket.next()).await;
        match message.expect("a frame").expect("a good frame") {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The ids of the next `count` envelopes.
async fn next_ids(socket: &mut Socket, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let event = next_json(socket).await;
        ids.push(event["id"].as_str().expect("an envelope id").to_owned());
    }
    ids
}

/// Reads until the server's Close frame and returns its code.
pub async fn close_code(socket: &mut Socket) -> u16 {
    loop {
        let message = within(PATIENCE, socket.next()).await;
        match message.expect("a close frame").expect("a good frame") {
            Message::Close(Some(frame)) => return frame.code.into(),
            Message::Close(None) => panic!("a close frame without a code"),
            Message::Text(text) => panic!("expected a close, got {text}"),
            _ => {}
        }
    }
}

/// Publishes `count` events on `demo` through the hub, without yielding in between.
async fn publish_many(app: &App, count: u64) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 1..=count {
        ids.push(app.publish("demo", json!(n)).await);
    }
    ids
}

#[tokio::test]
async fn websocket_delivers_each_published_event_as_a_text_frame_with_its_envelope() {
    let app = launch().await;
    let mut socket = connect(&app, "").await;

    let id = app.publish("demo", json!({"n": 1})).await;

    let event = next_json(&mut socket).await;
    assert_eq!(event["id"], json!(id));
    assert_eq!(event["channel"], json!("demo"));
    assert_eq!(event["data"], json!({"n": 1}));
    assert!(event["at"].as_str().expect("at").ends_with('Z'));
    app.stop().await;
}

#[tokio::test]
async fn websocket_publishes_a_text_frame_from_the_client_to_the_channel() {
    // Arrange: two clients on the channel.
    let app = launch().await;
    let (_, answer) = app.get("/api/channels/demo/events").await;
    let head: Value = serde_json::from_str(&answer).expect("a poll answer");
    let mut alice = connect(&app, "").await;
    let mut bob = connect(&app, "").await;

    // Act
    alice.send(Message::text("hello bob")).await.expect("sent");

    // Assert: both see it, and so does a poll of the channel.
    let seen = next_json(&mut bob).await;
    assert_eq!(seen["data"], json!("hello bob"));
    assert_eq!(next_json(&mut alice).await, seen);
    let next = head["next"].as_str().expect("next");
    let (status, body) = app
        .get(&format!("/api/channels/demo/events?since={next}"))
        .await;
    assert_eq!(status, 200);
    let poll: Value = serde_json::from_str(&body).expect("a poll answer");
    assert_eq!(poll["events"], json!([seen]));
    app.stop().await;
}

#[tokio::test]
async fn websocket_resumes_from_since_with_exactly_the_later_events() {
    // Arrange: read 3 of 10, then drop the connection.
    let app = launch().await;
    let mut first = connect(&app, "").await;
    let sent = publish_many(&app, 10).await;
    assert_eq!(next_ids(&mut first, 3).await, sent[..3]);
    drop(first);

    // Act
    let mut again = connect(&app, &format!("?since={}", sent[2])).await;

    // Assert
    assert_eq!(next_ids(&mut again, 7).await, sent[3..]);
    let marker = app.publish("demo", json!("marker")).await;
    assert_eq!(next_ids(&mut again, 1).await, [marker]);
    app.stop().await;
}

#[tokio::test]
async fn websocket_sends_a_reset_frame_first_when_the_epoch_is_unknown() {
    let app = launch().await;
    let held = app.publish("demo", json!(1)).await;
    let start = format!("{}-0", held.rsplit_once('-').expect("an id").0);

    let mut socket = connect(&app, "?since=neverseen0-3").await;

    assert_eq!(
        next_json(&mut socket).await,
        json!({"type": "reset", "next": start, "reason": "unknown_epoch"})
    );
    assert_eq!(next_ids(&mut socket, 1).await, [held]);
    let marker = app.publish("demo", json!("after")).await;
    assert_eq!(next_ids(&mut socket, 1).await, [marker]);
    app.stop().await;
}

#[tokio::test]
async fn websocket_closes_with_1013_when_the_subscriber_falls_behind_and_resumes_without_loss() {
    // Arrange: a queue of 4. This test runs on one thread, so the connection's task cannot
    // run while the 20 events are published.
    let app = launch_with(|f| f.merge(("hub.subscriber_queue", 4))).await;
    let start = app.publish("demo", json!(0)).await;
    let mut slow = connect(&app, &format!("?since={start}")).await;

    // Act
    let sent = publish_many(&app, 20).await;

    // Assert
    assert_eq!(close_code(&mut slow).await, 1013);
    let mut again = connect(&app, &format!("?since={start}")).await;
    assert_eq!(next_ids(&mut again, 20).await, sent);
    app.stop().await;
}

#[tokio::test]
async fn websocket_closes_with_1001_on_shutdown() {
    let app = launch().await;
    let mut socket = connect(&app, "").await;

    app.notify_shutdown();

    assert_eq!(close_code(&mut socket).await, 1001);
    app.stop().await;
}
