//! Every kind of held connection still works through the shipped nginx settings: an SSE
//! stream and a forever iframe get each event as it is published (nothing buffered), a
//! WebSocket upgrade passes, a long poll is held to the app's cap and not cut before, and a
//! publish through nginx is stored while a body over the body limit stops at nginx.
//!
//! Each stream starts from the id of an event published before it opened, so the event the
//! test then publishes arrives whether the subscription or the publish happens first.

use std::time::Instant;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

use crate::common::within;
use crate::harness::{self, LONG_POLL_MAX};
use crate::wire::{self, PATIENCE};

#[tokio::test]
async fn a_server_sent_event_stream_gets_events_through_nginx() {
    let test = "a_server_sent_event_stream_gets_events_through_nginx";
    let Some(edge) = harness::start(test).await else {
        return;
    };
    let before = edge.app.publish("edge-sse", json!("before")).await;
    let path = "/push/edge-sse/sse";
    let mut sse = wire::get(edge.nginx.port, path, &[("Last-Event-ID", &before)]).await;
    assert_eq!(sse.status, 200, "{}", sse.head);
    assert_eq!(sse.header("content-type"), Some("text/event-stream"));

    let id = edge.app.publish("edge-sse", json!("through nginx")).await;
    let text = sse.read_until(&format!("id: {id}\n")).await;

    assert!(text.contains("through nginx"), "{text}");
    assert!(
        !text.contains("\"before\""),
        "resumed after its cursor: {text}"
    );
    edge.stop().await;
}

#[tokio::test]
async fn a_forever_iframe_streams_through_nginx_unbuffered() {
    let test = "a_forever_iframe_streams_through_nginx_unbuffered";
    let Some(edge) = harness::start(test).await else {
        return;
    };
    let before = edge.app.publish("edge-iframe", json!("before")).await;
    let path = format!("/push/edge-iframe/iframe?since={before}");
    let mut iframe = wire::get(edge.nginx.port, &path, &[]).await;
    assert_eq!(iframe.status, 200, "{}", iframe.head);
    let padding = iframe.chunk().await.expect("the padding");
    assert!(
        padding.len() >= 1024,
        "{} bytes of padding first",
        padding.len()
    );

    let id = edge
        .app
        .publish("edge-iframe", json!("through nginx"))
        .await;
    let text = iframe.read_until(&id).await;

    assert!(text.contains("<script"), "{text}");
    assert!(text.contains("through nginx"), "{text}");
    edge.stop().await;
}

#[tokio::test]
async fn a_websocket_upgrades_through_nginx_and_gets_events() {
    let test = "a_websocket_upgrades_through_nginx_and_gets_events";
    let Some(edge) = harness::start(test).await else {
        return;
    };
    let before = edge.app.publish("edge-ws", json!("before")).await;
    // No Origin header: a client that is not a browser is admitted.
    let url = format!(
        "ws://127.0.0.1:{}/push/edge-ws/ws?since={before}",
        edge.nginx.port
    );
    let (mut socket, response) = within(PATIENCE, connect_async(url))
        .await
        .expect("a WebSocket through nginx");
    assert_eq!(response.status().as_u16(), 101);

    let id = edge.app.publish("edge-ws", json!("through nginx")).await;
    let delivered = async {
        while let Some(message) = socket.next().await {
            if let Message::Text(text) = message.expect("a frame")
                && text.contains(&id)
            {
                return text.to_string();
            }
        }
        panic!("the socket closed before the event");
    };
    let text = within(PATIENCE, delivered).await;

    assert!(text.contains("through nginx"), "{text}");
    edge.stop().await;
}

#[tokio::test]
async fn a_long_poll_is_held_through_nginx_until_the_apps_cap() {
    let test = "a_long_poll_is_held_through_nginx_until_the_apps_cap";
    let Some(edge) = harness::start(test).await else {
        return;
    };
    let before = edge.app.publish("edge-lp", json!("before")).await;
    let path = format!("/push/edge-lp/long-poll?since={before}");
    let started = Instant::now();

    let mut poll = wire::get(edge.nginx.port, &path, &[("Connection", "close")]).await;
    let body = poll.body().await;
    let held = started.elapsed();

    assert_eq!(poll.status, 200, "{}", poll.head);
    let answer: Value = serde_json::from_str(body.trim()).expect("a JSON answer");
    assert_eq!(answer["events"], json!([]), "{body}");
    eprintln!("long poll: held {held:.2?} through nginx (cap {LONG_POLL_MAX:?})");
    assert!(held >= LONG_POLL_MAX, "held {held:?}");
    assert!(held < LONG_POLL_MAX + PATIENCE, "held {held:?}");
    edge.stop().await;
}

#[tokio::test]
async fn publishes_pass_through_nginx_and_large_bodies_stop_there() {
    let test = "publishes_pass_through_nginx_and_large_bodies_stop_there";
    let Some(edge) = harness::start(test).await else {
        return;
    };
    let port = edge.nginx.port;
    let publish = |body: String| {
        let request = format!(
            "POST /api/channels/edge-pub/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        async move { wire::send(port, request.as_bytes()).await }
    };

    let stored = publish(json!("through nginx").to_string()).await;
    let over_app_limit = publish(json!("a".repeat(20 * 1024)).to_string()).await;
    let mut over_nginx_limit = publish(json!("a".repeat(40 * 1024)).to_string()).await;

    assert_eq!(stored.status, 201, "{}", stored.head);
    // Between the app's 16 KiB and nginx's 32 KiB, the app answers with its JSON error.
    assert_eq!(over_app_limit.status, 413, "{}", over_app_limit.head);
    assert!(
        over_app_limit
            .header("content-type")
            .is_some_and(|t| t.contains("json"))
    );
    // Past nginx's limit, nginx answers itself.
    assert_eq!(over_nginx_limit.status, 413, "{}", over_nginx_limit.head);
    assert!(over_nginx_limit.body().await.contains("nginx"));
    edge.stop().await;
}
