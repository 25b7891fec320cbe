//! The WebSocket half of `tests/local/stored_data.rs`, which Rocket's local client cannot
//! upgrade: data that breaks the publish rule but is stored all the same (by an older
//! version, or written to Redis by hand) reaches a WebSocket as sent, on both backends.

use std::time::Duration;

use futures_util::StreamExt;
use reverse_ajax::hub::{Channel, Payload};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

use crate::common::within;
use crate::launcher::{App, launch, launch_with};
use crate::redis_support::{delete_keys, redis_ready, redis_url, unique_prefix};

/// What an older version stored and publish now refuses.
fn broken() -> [String; 3] {
    [
        "1e999".to_owned(),
        r#"{"text":"\ud800"}"#.to_owned(),
        format!("{}{}", "[".repeat(129), "]".repeat(129)),
    ]
}

/// Stores the broken data on `demo` past the publish check, then reads it on a WebSocket
/// opened from the cursor before it: each frame carries the data exactly as stored.
async fn a_websocket_delivers_it(app: &App) {
    let channel = Channel::parse("demo").expect("a channel");
    let before = app.hub.read(&channel, None).await.expect("a read").next;
    for text in broken() {
        let data = Payload::stored(&text).expect("JSON syntax");
        app.hub.publish(&channel, data).await.expect("stored");
    }
    let url = app.ws(&format!("/push/demo/ws?since={before}"));
    let patience = Duration::from_secs(5);
    let (mut socket, _) = within(patience, connect_async(url))
        .await
        .expect("the handshake succeeds");
    crate::websocket::hello(&mut socket).await;
    for text in broken() {
        let frame = loop {
            match within(patience, socket.next()).await {
                // Control frames (heartbeats) carry no event: an envelope starts
                // with its id.
                Some(Ok(Message::Text(frame))) if frame.starts_with("{\"id\":") => break frame,
                Some(Ok(Message::Text(_))) => {}
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        };
        assert!(
            frame.contains(&format!("\"data\":{text},")),
            "{text} as sent: {frame}"
        );
    }
}

#[tokio::test]
async fn stored_data_a_reader_cannot_load_reaches_a_websocket_from_the_memory_hub() {
    let app = launch().await;
    a_websocket_delivers_it(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn stored_data_a_reader_cannot_load_reaches_a_websocket_from_the_redis_hub() {
    if !redis_ready("stored data on a WebSocket from the Redis hub").await {
        return;
    }
    let prefix = unique_prefix("stored-data-ws");
    let (url, keys) = (redis_url(), prefix.clone());
    let app = launch_with(move |figment| {
        figment
            .merge(("hub.backend", "redis"))
            .merge(("hub.url", url))
            .merge(("hub.prefix", keys))
    })
    .await;
    a_websocket_delivers_it(&app).await;
    app.stop().await;
    delete_keys(&prefix);
}
