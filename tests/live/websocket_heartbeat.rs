//! A quiet WebSocket's heartbeat: each beat is a ping (for proxies and client libraries) and
//! then a text frame `{"type":"heartbeat"}` (for pages, whose browsers hide pings), and the
//! hello announces their interval. The echo route sends pings only: no hello, no heartbeat
//! frame.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

use crate::common::within;
use crate::launcher::{App, launch_with};
use crate::websocket::{Socket, next_json};

/// A short heartbeat, so that the test sees several.
const BEAT_MS: u64 = 400;

/// The app with the short heartbeat, and the echo route mounted.
async fn launch_beating() -> App {
    launch_with(|f| {
        f.merge(("push.ws_ping_ms", BEAT_MS))
            .merge(("push.ws_echo", true))
    })
    .await
}

async fn open(app: &App, path: &str) -> Socket {
    let (socket, _) = within(Duration::from_secs(5), connect_async(app.ws(path)))
        .await
        .expect("the handshake succeeds");
    socket
}

/// The next frame, which must come within two heartbeat intervals: the client's silence rule.
async fn within_two_beats(socket: &mut Socket) -> Message {
    within(Duration::from_millis(2 * BEAT_MS), socket.next())
        .await
        .expect("a frame")
        .expect("a good frame")
}

#[tokio::test]
async fn a_quiet_websocket_gets_a_ping_and_a_heartbeat_frame_each_beat() {
    let app = launch_beating().await;
    let mut socket = open(&app, "/push/demo/ws").await;

    let hello = next_json(&mut socket).await;
    assert_eq!(hello["heartbeat_ms"], json!(BEAT_MS));
    for _ in 0..3 {
        let ping = within_two_beats(&mut socket).await;
        assert!(
            matches!(ping, Message::Ping(_)),
            "a ping first, got {ping:?}"
        );
        let Message::Text(beat) = within_two_beats(&mut socket).await else {
            panic!("a heartbeat text frame after the ping");
        };
        assert_eq!(beat.as_str(), r#"{"type":"heartbeat"}"#);
    }
    // Events still come as their envelopes, with nothing added.
    let id = app.publish("demo", json!("after")).await;
    let event = next_json(&mut socket).await;
    let event = if event["type"] == json!("heartbeat") {
        next_json(&mut socket).await
    } else {
        event
    };
    assert_eq!(event["id"], json!(id));
    app.stop().await;
}

#[tokio::test]
async fn the_echo_route_sends_pings_but_no_hello_and_no_heartbeat_frame() {
    let app = launch_beating().await;
    let mut socket = open(&app, "/push/autobahn/echo").await;

    let mut pings = 0;
    while pings < 3 {
        match within_two_beats(&mut socket).await {
            Message::Ping(_) => pings += 1,
            other => panic!("only pings on a quiet echo, got {other:?}"),
        }
    }
    socket
        .send(Message::text("back"))
        .await
        .expect("the message goes out");
    let echoed: Value = loop {
        match within_two_beats(&mut socket).await {
            Message::Text(text) => break json!(text.as_str()),
            Message::Ping(_) => {}
            other => panic!("expected the echo, got {other:?}"),
        }
    };
    assert_eq!(echoed, json!("back"));
    app.stop().await;
}
