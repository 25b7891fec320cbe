//! The publisher: sends events 1..=M with `{"seq":N,"ts":T}` bodies on an absolute schedule
//! (start + i / rate), over keep-alive HTTP/1.1 connections that each wait for their answer
//! before sending again. Above 100 events per second it uses several connections.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::conn::{Conn, wall_ns};
use crate::http::Body;
use crate::servers::Kind;

/// Connections used above 100 events per second.
const LANES: u64 = 4;
/// The longest one publish may take, connect included.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// What publishing did.
pub struct Published {
    /// Events that failed (each failure was printed).
    pub failed: u64,
    /// How late the last event went out against its schedule (the publisher waits for each
    /// answer, so a server that answers slowly holds it back).
    pub late: Duration,
}

/// Publishes `total` events at `rate` per second, the first one at `start`.
pub async fn run(addr: SocketAddr, kind: Kind, rate: u32, total: u64, start: Instant) -> Published {
    let lanes = if rate > 100 { LANES } else { 1 };
    let tasks: Vec<_> = (0..lanes)
        .map(|lane| tokio::spawn(self::lane(addr, kind, rate, total, start, lane, lanes)))
        .collect();
    let mut published = Published {
        failed: 0,
        late: Duration::ZERO,
    };
    for task in tasks {
        match task.await {
            Ok((failed, late)) => {
                published.failed += failed;
                published.late = published.late.max(late);
            }
            Err(e) => eprintln!("    a publisher task failed: {e}"),
        }
    }
    published
}

/// Sends events `lane + 1`, `lane + 1 + lanes`, …; returns how many failed, and how late the
/// last one went out.
async fn lane(
    addr: SocketAddr,
    kind: Kind,
    rate: u32,
    total: u64,
    start: Instant,
    lane: u64,
    lanes: u64,
) -> (u64, Duration) {
    let mut failed = 0;
    let mut late = Duration::ZERO;
    let mut conn: Option<Conn> = None;
    let mut answer = Vec::with_capacity(1024);
    let mut i = lane;
    while i < total {
        let due = start + Duration::from_nanos(i * 1_000_000_000 / u64::from(rate));
        tokio::time::sleep_until(due.into()).await;
        late = due.elapsed();
        let seq = i + 1;
        let body = format!("{{\"seq\":{seq},\"ts\":{}}}", wall_ns());
        let request = request(addr, kind, &body);
        let result = tokio::time::timeout(
            PUBLISH_TIMEOUT,
            publish(addr, &mut conn, request.as_bytes(), &mut answer),
        )
        .await
        .unwrap_or_else(|_| Err("no answer within 10 s".to_owned()));
        match result {
            Ok(201 | 202) if kind == Kind::Nchan => {}
            Ok(201) if kind == Kind::Ours => {}
            Ok(status) => {
                failed += 1;
                let text = String::from_utf8_lossy(&answer);
                eprintln!("    publishing event {seq} was answered {status}: {text}");
            }
            Err(e) => {
                failed += 1;
                conn = None;
                eprintln!("    publishing event {seq} failed: {e}");
            }
        }
        i += lanes;
    }
    (failed, late)
}

fn request(addr: SocketAddr, kind: Kind, body: &str) -> String {
    let target = match kind {
        Kind::Ours => "/api/channels/bench/events",
        Kind::Nchan => "/pub?id=bench",
    };
    format!(
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Sends one request on the lane's connection (opening one when there is none) and reads
/// the whole answer. Returns the status.
async fn publish(
    addr: SocketAddr,
    slot: &mut Option<Conn>,
    request: &[u8],
    answer: &mut Vec<u8>,
) -> Result<u16, String> {
    let conn = match slot {
        Some(conn) => conn,
        None => slot.insert(Conn::connect(addr).await?),
    };
    conn.send(request).await?;
    let head = conn.read_head().await?;
    let mut body = Body::for_head(&head)?;
    answer.clear();
    conn.read_body(&mut body, answer).await?;
    if !head.keep_alive() {
        *slot = None;
    }
    Ok(head.status)
}
