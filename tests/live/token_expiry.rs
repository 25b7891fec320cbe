//! A WebSocket admitted with a token closes with 1008 when the token stops counting (`exp`
//! plus the leeway), even when the client never sends, and the metrics count it.

use std::time::Duration;

use futures_util::StreamExt;
use reverse_ajax::access::token::{ChannelClaims, Claims, Keys, LEEWAY, expiry};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

use crate::common::within;
use crate::launcher::launch_with;
use crate::websocket::hello;

const SECRET: &str = "a test secret, at least thirty-two bytes long";

/// A token for `private-room` that stops counting about `seconds` from now.
fn token(seconds: u64) -> String {
    let claims = Claims {
        exp: (expiry(Duration::ZERO) + seconds).saturating_sub(LEEWAY + 1),
        sub: Some("expiry".into()),
        channels: ChannelClaims {
            publish: vec!["private-room".into()],
            subscribe: vec!["private-room".into()],
        },
    };
    Keys::new(SECRET)
        .expect("a usable secret")
        .issue(&claims)
        .expect("a signed token")
}

#[tokio::test]
async fn a_websocket_closes_with_1008_when_its_token_expires_though_the_client_never_sends() {
    // Arrange: a socket whose token has about three seconds left.
    let app = launch_with(|f| f.merge(("auth.secret", SECRET))).await;
    let url = app.ws(&format!("/push/private-room/ws?token={}", token(3)));
    let (mut socket, _) = within(Duration::from_secs(5), connect_async(url))
        .await
        .expect("the handshake succeeds");
    hello(&mut socket).await;
    let id = app
        .publish("private-room", serde_json::json!("before"))
        .await;

    // Act: read, sending nothing, until the server closes.
    let (texts, close) = within(Duration::from_secs(8), async {
        let mut texts = Vec::new();
        loop {
            match socket.next().await.expect("a frame").expect("a good frame") {
                Message::Text(text) => texts.push(text.to_string()),
                Message::Close(frame) => return (texts, frame.expect("a close frame")),
                _ => {}
            }
        }
    })
    .await;

    // Assert
    assert_eq!(u16::from(close.code), 1008, "{close:?}");
    assert!(close.reason.contains("token has expired"), "{close:?}");
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains(&id), "{texts:?}");
    // The count lands when the session has finished its closing handshake: look until then.
    drop(socket);
    let line = "reverse_ajax_disconnects_total{transport=\"websocket\",reason=\"token_expired\"} 1";
    within(Duration::from_secs(5), async {
        while !app.get("/metrics").await.1.lines().any(|l| l == line) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    app.stop().await;
}
