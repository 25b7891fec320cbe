//! The subscribers, one module per transport. This module holds what they share: the state
//! of the run they report to, opening a connection (the first one timed, with at most 200
//! connects in flight), and running one subscriber until the run tells it to stop.

pub mod iframe;
pub mod long_poll;
pub mod multipart;
pub mod sse;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use tokio::time::timeout;

use crate::cases::Transport;
use crate::conn::Conn;
use crate::http::Head;
use crate::servers::Kind;
use crate::tally::Tally;

/// Connects in flight at once, across all subscribers.
const IN_FLIGHT: usize = 200;
/// The longest a connect may take, up to the response head.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Subscriber errors printed before the rest are only counted.
const SHOWN_ERRORS: usize = 10;

/// What all subscribers of one run share.
pub struct Shared {
    pub addr: SocketAddr,
    pub server: Kind,
    gate: Semaphore,
    /// Subscribers whose first connect is over, whether it worked or not.
    pub connected: AtomicUsize,
    /// Subscribers whose first connect failed three times.
    pub failed: AtomicUsize,
    /// Subscribers that have every event.
    pub complete: Arc<AtomicUsize>,
    errors: AtomicUsize,
}

impl Shared {
    pub fn new(addr: SocketAddr, server: Kind) -> Shared {
        Shared {
            addr,
            server,
            gate: Semaphore::new(IN_FLIGHT),
            connected: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            complete: Arc::new(AtomicUsize::new(0)),
            errors: AtomicUsize::new(0),
        }
    }

    /// Prints a subscriber's error (only the first few of a run).
    pub fn error(&self, what: &str) {
        let n = self.errors.fetch_add(1, Ordering::Relaxed);
        if n < SHOWN_ERRORS {
            eprintln!("    subscriber error: {what}");
        } else if n == SHOWN_ERRORS {
            eprintln!("    (further subscriber errors are counted, not shown)");
        }
    }

    /// Errors so far.
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }
}

/// Runs one subscriber until `stop` turns true, then hands back what it received.
pub async fn subscriber(
    sh: Arc<Shared>,
    transport: Transport,
    total: u64,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    let mut tally = Tally::new(total, Arc::clone(&sh.complete));
    {
        let work = async {
            match (transport, sh.server) {
                (Transport::Sse, _) => sse::run(&sh, &mut tally).await,
                (Transport::WebSocket, _) => ws::run(&sh, &mut tally).await,
                (Transport::LongPoll, Kind::Ours) => long_poll::ours(&sh, &mut tally).await,
                (Transport::LongPoll, Kind::Nchan) => long_poll::nchan(&sh, &mut tally).await,
                (Transport::Iframe, _) => iframe::run(&sh, &mut tally).await,
                (Transport::Multipart, _) => multipart::run(&sh, &mut tally).await,
            }
        };
        tokio::select! {
            biased;
            _ = stop.wait_for(|stopped| *stopped) => {}
            () = work => {}
        }
    }
    tally
}

/// Opens a subscriber's first connection and times it from the start of connect() to the
/// response head. Tries three times; `None` when all failed (the subscriber then counts as
/// failed, and every event as lost to it).
pub async fn first<T, F, Fut>(sh: &Shared, tally: &mut Tally, mut open: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    for attempt in 1..=3 {
        let result = {
            let _permit = sh.gate.acquire().await.ok()?;
            let started = Instant::now();
            match timeout(OPEN_TIMEOUT, open()).await {
                Ok(result) => result.map(|value| (value, started.elapsed())),
                Err(_) => Err("no answer within 30 s".to_owned()),
            }
        };
        match result {
            Ok((value, took)) => {
                tally.connect_us = Some(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                sh.connected.fetch_add(1, Ordering::SeqCst);
                return Some(value);
            }
            Err(e) => {
                sh.error(&format!("first connect, try {attempt} of 3: {e}"));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    sh.failed.fetch_add(1, Ordering::SeqCst);
    sh.connected.fetch_add(1, Ordering::SeqCst);
    None
}

/// Opens a connection again after a stream ended, trying until it works (the end of the run
/// stops the trying).
pub async fn again<T, F, Fut>(sh: &Shared, tally: &mut Tally, mut open: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    tally.reconnects += 1;
    loop {
        let result = {
            let _permit = sh.gate.acquire().await;
            timeout(OPEN_TIMEOUT, open()).await
        };
        match result {
            Ok(Ok(value)) => return value,
            Ok(Err(e)) => sh.error(&format!("reconnect: {e}")),
            Err(_) => sh.error("reconnect: no answer within 30 s"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Connects, sends `GET target` with the `extra` header lines (each ending in CRLF) and
/// reads the response head, which must be a 200.
pub async fn get(addr: SocketAddr, target: &str, extra: &str) -> Result<(Conn, Head), String> {
    let mut conn = Conn::connect(addr).await?;
    let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n");
    conn.send(request.as_bytes()).await?;
    let head = conn.read_head().await?;
    if head.status != 200 {
        return Err(format!("GET {target} answered {}", head.status));
    }
    Ok((conn, head))
}

/// Bytes as text for a URL or a header; event ids are plain ASCII.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One frame from a server: an event is recorded and its envelope id (ours) kept in
/// `last_id`; a control frame of ours with a `next` id (reset, end) moves `last_id` there.
pub fn frame(bytes: &[u8], stamp: crate::conn::Stamp, tally: &mut Tally, last_id: &mut Vec<u8>) {
    let id = if tally.record_scan(bytes, stamp) {
        crate::tally::string_after(bytes, b"\"id\":\"")
    } else {
        crate::tally::string_after(bytes, b"\"next\":\"")
    };
    if let Some(id) = id {
        last_id.clear();
        last_id.extend_from_slice(id);
    }
}
