//! What a WebSocket refuses: messages over 16 KiB (close 1009), binary frames (close 1003),
//! handshakes from foreign origins (403, even when `Host` agrees with them), messages on a
//! channel the caller may only read (close 1008) and messages over the publish rate (1008).

use futures_util::SinkExt;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error, Message};

use crate::common::within;
use crate::launcher::{App, launch, launch_with};
use crate::websocket::{Socket, close_code, connect};

/// Attempts a handshake on `/push/demo/ws` with `Origin: origin`.
async fn handshake(app: &App, origin: &str) -> Result<Socket, Error> {
    handshake_with(app, "/push/demo/ws", &[("Origin", origin)]).await
}

/// Attempts a handshake on `path` with `headers` added.
async fn handshake_with(
    app: &App,
    path: &str,
    headers: &[(&'static str, &str)],
) -> Result<Socket, Error> {
    let mut request = app.ws(path).into_client_request().expect("a request");
    for &(name, value) in headers {
        let value = HeaderValue::from_str(value).expect("a header value");
        request.headers_mut().insert(name, value);
    }
    let (mut socket, _) = within(std::time::Duration::from_secs(5), connect_async(request)).await?;
    crate::websocket::hello(&mut socket).await;
    Ok(socket)
}

/// Sends `text` and waits for it to come back as the data of a published event.
async fn published_back(socket: &mut Socket, text: &str) {
    socket.send(Message::text(text)).await.expect("sent");
    let event = crate::websocket::next_json(socket).await;
    assert_eq!(event["data"], serde_json::json!(text));
}

#[tokio::test]
async fn websocket_closes_with_1009_when_a_message_exceeds_16_kib() {
    let app = launch().await;
    let mut socket = connect(&app, "").await;

    let big = "x".repeat(16 * 1024 + 1);
    socket.send(Message::text(big)).await.expect("sent");

    assert_eq!(close_code(&mut socket).await, 1009);
    app.stop().await;
}

#[tokio::test]
async fn websocket_accepts_a_message_of_exactly_16_kib() {
    let app = launch().await;
    let mut socket = connect(&app, "").await;

    published_back(&mut socket, &"x".repeat(16 * 1024)).await;
    app.stop().await;
}

#[tokio::test]
async fn websocket_closes_with_1003_when_a_binary_frame_arrives() {
    let app = launch().await;
    let mut socket = connect(&app, "").await;

    socket
        .send(Message::binary(vec![1, 2, 3]))
        .await
        .expect("sent");

    assert_eq!(close_code(&mut socket).await, 1003);
    app.stop().await;
}

#[tokio::test]
async fn websocket_refuses_a_handshake_from_a_foreign_origin_with_403() {
    let app = launch().await;

    let refused = handshake(&app, "http://evil.example").await;

    match refused {
        Err(Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("a foreign origin opened a WebSocket"),
    }
    app.stop().await;
}

#[tokio::test]
async fn websocket_accepts_a_handshake_from_its_own_origin_or_without_one() {
    let app = launch().await;

    let own = handshake(&app, &app.origin()).await;
    let _none = connect(&app, "").await;

    assert!(own.is_ok(), "same origin refused: {:?}", own.err());
    app.stop().await;
}

#[tokio::test]
async fn websocket_accepts_a_handshake_from_a_configured_allowed_origin() {
    let allowed = vec!["https://friend.example".to_owned()];
    let app = launch_with(|f| f.merge(("push.allowed_origins", allowed))).await;

    let friend = handshake(&app, "https://friend.example").await;
    let stranger = handshake(&app, "https://stranger.example").await;

    assert!(friend.is_ok(), "allowed origin refused: {:?}", friend.err());
    assert!(matches!(stranger, Err(Error::Http(r)) if r.status().as_u16() == 403));
    app.stop().await;
}

#[tokio::test]
async fn websocket_refuses_a_rebinding_page_whose_host_and_origin_agree() {
    let app = launch().await;

    let headers = [("Host", "evil.example"), ("Origin", "http://evil.example")];
    let refused = handshake_with(&app, "/push/demo/ws", &headers).await;

    assert!(matches!(refused, Err(Error::Http(r)) if r.status().as_u16() == 403));
    app.stop().await;
}

#[tokio::test]
async fn websocket_closes_with_1008_when_the_caller_may_only_read_the_channel() {
    let app = launch_with(|f| f.merge(("auth.public_publish", ["demo"]))).await;
    let mut socket = handshake_with(&app, "/push/news/ws", &[])
        .await
        .expect("reading is public");

    socket.send(Message::text("hello")).await.expect("sent");

    assert_eq!(close_code(&mut socket).await, 1008);
    app.stop().await;
}

#[tokio::test]
async fn websocket_closes_with_1008_past_the_publish_rate() {
    // One per second, bursts of two: the third message in a row is over the limit.
    let app = launch_with(|f| f.merge(("clients.publish_per_ip", 1))).await;
    let mut socket = connect(&app, "").await;

    for n in 0..2 {
        published_back(&mut socket, &format!("m{n}")).await;
    }
    socket.send(Message::text("m2")).await.expect("sent");

    assert_eq!(close_code(&mut socket).await, 1008);
    app.stop().await;
}
