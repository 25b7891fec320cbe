//! Header values that are not UTF-8: Rocket 0.5 drops such a header before the app sees it,
//! so the shipped nginx refuses a byte outside ASCII in the headers the app parses
//! (`Idempotency-Key`, `Last-Event-ID`, `Authorization`) with a JSON 400, rather than let a
//! retry store its event twice or a stream resume from "now" without a reset.

use serde_json::Value;

use crate::harness;
use crate::wire;

/// A request on `path` with `method`, `header` set to the raw bytes of `value`, and `body`.
fn raw(method: &str, path: &str, header: &str, value: &[u8], body: &str) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{header}: ",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(value);
    request.extend_from_slice(format!("\r\n\r\n{body}").as_bytes());
    request
}

/// The events on `ch` after `since`, as a poll through nginx answers them.
async fn events(port: u16, ch: &str, since: &str) -> Vec<Value> {
    let path = format!("/api/channels/{ch}/events?since={since}");
    let mut answer = wire::get(port, &path, &[("Connection", "close")]).await;
    let body: Value = serde_json::from_str(&answer.body().await).expect("a JSON poll");
    body["events"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_header_the_app_parses_with_bytes_outside_ascii_is_a_json_400() {
    let test = "a_header_the_app_parses_with_bytes_outside_ascii_is_a_json_400";
    let Some(edge) = harness::start(test).await else {
        return;
    };
    let port = edge.nginx.port;
    let head = edge.app.publish("bytes", serde_json::json!("first")).await;
    let cases = [
        raw(
            "POST",
            "/api/channels/bytes/events",
            "Idempotency-Key",
            b"\xe9",
            "1",
        ),
        raw(
            "POST",
            "/api/channels/bytes/events",
            "Idempotency-Key",
            b"\xe9",
            "1",
        ),
        raw("GET", "/push/bytes/sse", "Last-Event-ID", b"\xff", ""),
        raw(
            "GET",
            "/api/channels/bytes/events",
            "Authorization",
            b"Bearer \xff",
            "",
        ),
    ];

    for request in cases {
        let mut answer = wire::send(port, &request).await;
        let body = answer.body().await;

        let what = String::from_utf8_lossy(&request[..request.len().min(40)]).into_owned();
        assert_eq!(answer.status, 400, "{what}: {body}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{what}"
        );
        let error: Value = serde_json::from_str(&body).expect("a JSON error");
        assert!(
            error["error"].as_str().is_some_and(|e| e.contains("ASCII")),
            "{body}"
        );
    }
    // Neither publish was stored; an honest key still publishes.
    let stored = events(port, "bytes", &head).await;
    assert!(stored.is_empty(), "nothing after {head}: {stored:?}");
    let honest = raw(
        "POST",
        "/api/channels/bytes/events",
        "Idempotency-Key",
        b"k-1",
        "2",
    );
    assert_eq!(wire::send(port, &honest).await.status, 201);
    edge.stop().await;
}
