//! Clients that take their time: a slowloris that sends its head a byte at a time and an
//! idle keep-alive connection. Rocket would keep both open for ever; nginx cuts them after
//! the shipped `client_header_timeout` and `keepalive_timeout`, and the app never sees them.

use std::time::{Duration, Instant};

use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::time::timeout;

use crate::common::within;
use crate::harness;
use crate::nginx::shipped_seconds;
use crate::procfs::server_side_queues;
use crate::wire;

/// How late past its timeout nginx may cut a connection (its timers are coarse, and the test
/// machine may be busy).
const SLACK: Duration = Duration::from_secs(2);

/// How often the slowloris sends one more byte of its head.
const DRIP: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_slowloris_client_is_cut_within_the_header_timeout() {
    let Some(edge) = harness::start("a_slowloris_client_is_cut_within_the_header_timeout").await
    else {
        return;
    };
    let limit = shipped_seconds("client_header_timeout");
    let mut tcp = wire::connect(edge.nginx.port).await;
    let started = Instant::now();
    tcp.write_all(b"GET /push/slow/sse HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .expect("the first bytes");

    let mut sent = 0;
    let cut = async {
        let mut buf = [0; 64];
        loop {
            match timeout(DRIP, tcp.read(&mut buf)).await {
                // Closed (FIN or reset), or an answer such as 408: either way nginx gave up.
                Ok(_) => return,
                Err(_quiet) => {
                    assert!(
                        server_side_queues(edge.app.port).is_empty(),
                        "the app saw it"
                    );
                    if tcp.write_all(b"x").await.is_err() {
                        return;
                    }
                    sent += 1;
                }
            }
        }
    };
    within(limit + SLACK + DRIP, cut).await;
    let elapsed = started.elapsed();

    eprintln!("slowloris: cut after {elapsed:.1?} ({sent} drips; client_header_timeout {limit:?})");
    assert!(sent >= 2, "the client kept sending bytes ({sent})");
    assert!(
        elapsed >= limit.saturating_sub(Duration::from_secs(1)),
        "cut by the header timeout, not by something else, after {elapsed:?}"
    );
    assert!(elapsed <= limit + SLACK, "cut after {elapsed:?}");
    edge.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout() {
    let test = "an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout";
    let Some(edge) = harness::start(test).await else {
        return;
    };
    let limit = shipped_seconds("keepalive_timeout");
    let mut poll = wire::get(edge.nginx.port, "/api/channels/idle/events", &[]).await;
    assert_eq!(poll.status, 200, "{}", poll.head);
    let body = poll.body().await;
    assert!(body.contains("\"events\":[]"), "an empty poll: {body}");
    assert_ne!(poll.header("connection"), Some("close"), "kept alive");

    let idle = poll.closed_after(limit + SLACK).await;

    eprintln!("keep-alive: idle connection closed after {idle:.1?} (keepalive_timeout {limit:?})");
    assert!(
        idle >= limit.saturating_sub(Duration::from_secs(1)),
        "{idle:?}"
    );
    edge.stop().await;
}
