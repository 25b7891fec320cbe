//! Shutdown through `client.rocket().shutdown().notify()`: every stream sends its last frame
//! and ends, and every held request answers an empty batch long before its cap.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{client, client_with, publish};
use crate::long_polling::long_cap;
use crate::streaming::{Stream, head};
use crate::{forever_iframe, long_polling, multipart_streaming, script_long_polling};
use crate::{server_sent_events as sse, streaming};

#[rocket::async_test]
async fn sse_sends_retry_and_a_shutdown_event_then_ends_on_shutdown() {
    // Arrange
    let client = client().await;
    let mut stream = sse::open(&client, "", None).await;

    // Act
    client.rocket().shutdown().notify();

    // Assert
    let last = sse::message(&mut stream).await.expect("a last message");
    assert_eq!(last.0, ["retry: 2000", "event: shutdown", "data: {}"]);
    assert!(sse::message(&mut stream).await.is_none(), "the stream ends");
}

#[rocket::async_test]
async fn forever_iframe_ends_with_a_shutdown_frame_on_shutdown() {
    let client = client().await;
    let mut stream = forever_iframe::open(&client, "").await;
    let id = publish(&client, "demo", json!(1)).await;
    let event = forever_iframe::next_frame(&mut stream)
        .await
        .expect("a frame");
    assert_eq!(event["event"]["id"], json!(id));

    client.rocket().shutdown().notify();

    let end = forever_iframe::next_frame(&mut stream)
        .await
        .expect("an end frame");
    assert_eq!(
        end,
        json!({"type": "end", "reason": "shutdown", "next": id})
    );
    assert_eq!(stream.rest().await, ["</body></html>"]);
}

#[rocket::async_test]
async fn multipart_stream_ends_with_a_shutdown_part_on_shutdown() {
    let client = client().await;
    let mut parts = multipart_streaming::open(&client, "").await;
    let since = head(&client, "demo").await;

    client.rocket().shutdown().notify();

    let end = parts.frame().await.expect("an end part");
    assert_eq!(
        end,
        json!({"type": "end", "reason": "shutdown", "next": since})
    );
    assert!(
        parts.frame().await.is_none(),
        "the closing delimiter follows"
    );
    assert!(parts.stream.line().await.is_none(), "the stream ends");
}

#[rocket::async_test]
async fn long_poll_answers_an_empty_batch_at_shutdown() {
    // Arrange: a poll held under a 20 s cap.
    let client = client_with(long_cap).await;
    let since = head(&client, "demo").await;
    let started = Instant::now();
    let mut held = Stream::new(long_polling::start(&client, &format!("?since={since}")).await);
    assert_eq!(held.first_chunk().await.trim(), "", "held");

    // Act
    client.rocket().shutdown().notify();

    // Assert
    let body = held.rest().await.concat();
    let batch: serde_json::Value = serde_json::from_str(body.trim_start()).expect("JSON");
    assert_eq!(batch, json!({"events": [], "next": since, "reset": false}));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "long before the cap"
    );
}

#[rocket::async_test]
async fn script_long_poll_answers_an_empty_batch_at_shutdown() {
    let client = client_with(long_cap).await;
    let since = head(&client, "demo").await;
    let started = Instant::now();
    let response = script_long_polling::start(&client, &format!("&since={since}")).await;
    let mut held = Stream::new(response);
    assert_eq!(held.first_chunk().await.trim(), "", "held");

    client.rocket().shutdown().notify();

    let batch = script_long_polling::call(&held.rest().await.concat());
    assert_eq!(batch, json!({"events": [], "next": since, "reset": false}));
    assert!(
        started.elapsed() < streaming::PATIENCE,
        "long before the cap"
    );
}
