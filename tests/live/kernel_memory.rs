//! What a thousand readers that stopped reading cost the kernel: each connection's send buffer
//! is capped (`[listener] send_buffer`), so 20 events of 16 KiB to each of them pin at most
//! the cap per connection, not the autotuned megabytes `net.ipv4.tcp_wmem` allows.

use std::time::Duration;

use futures_util::future::join_all;
use rocket::tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use rocket::tokio::net::{TcpSocket, TcpStream};
use serde_json::json;

use crate::common::within;
use crate::launcher::{App, launch_with};

const READERS: usize = 1000;
const EVENTS: u64 = 20;

/// The kernel's TCP memory in bytes, from the `mem` pages of /proc/net/sockstat.
fn tcp_memory() -> u64 {
    let stat = std::fs::read_to_string("/proc/net/sockstat").expect("/proc/net/sockstat");
    let line = stat
        .lines()
        .find(|l| l.starts_with("TCP:"))
        .expect("a TCP line");
    let mut fields = line.split_whitespace();
    let pages = fields
        .by_ref()
        .skip_while(|f| *f != "mem")
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .expect("TCP mem pages");
    pages * rustix::param::page_size() as u64
}

/// Opens an SSE stream on `ch` with the smallest receive buffer, reads its head and then
/// never reads again.
async fn stalled_reader(port: u16, ch: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(1).expect("SO_RCVBUF");
    let tcp = socket
        .connect(([127, 0, 0, 1], port).into())
        .await
        .expect("connected");
    let mut reader = BufReader::new(tcp);
    let request = format!("GET /push/{ch}/sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut line = String::from("-");
    while line != "\r\n" {
        line.clear();
        reader.read_line(&mut line).await.expect("a head line");
    }
    reader.into_inner()
}

/// How many events the server has handed to SSE connections, from /metrics.
async fn delivered(app: &App) -> u64 {
    let (_, body) = app.get("/metrics").await;
    body.lines()
        .find(|l| {
            l.starts_with("reverse_ajax_events_delivered_total{")
                && l.contains("transport=\"server-sent-events\"")
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_thousand_stalled_readers_pin_less_kernel_memory_than_the_cap_each() {
    // Arrange: the shipped send buffer, and a write timeout long enough to measure before
    // it cuts anyone.
    reverse_ajax::experiment::raise_file_limit().expect("room for 2,000 sockets");
    let cap: u64 = reverse_ajax::config::figment()
        .extract_inner("listener.send_buffer")
        .expect("a shipped send buffer");
    let app = launch_with(|f| f.merge(("push.write_timeout_ms", 60_000))).await;
    let mut readers = Vec::with_capacity(READERS);
    for batch in 0..READERS / 100 {
        let opened = (0..100).map(|_| stalled_reader(app.port, "stalled"));
        let opened = within(Duration::from_secs(30), join_all(opened)).await;
        readers.extend(opened);
        eprintln!("{} readers", (batch + 1) * 100);
    }
    let before = tcp_memory();

    // Act: 20 events of 16 KiB to every reader; wait until the server has handed over all
    // it can (every event, or nothing more for half a second), then watch the kernel's
    // figure for a second.
    for n in 0..EVENTS {
        app.publish("stalled", json!({ "n": n, "pad": "x".repeat(16_000) }))
            .await;
    }
    within(Duration::from_secs(60), async {
        let mut last = 0;
        loop {
            // The server says nothing when it is done: ask again soon.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = delivered(&app).await;
            if now >= EVENTS * READERS as u64 || (now > 0 && now == last) {
                break;
            }
            last = now;
        }
    })
    .await;
    let mut peak = 0;
    for _ in 0..10 {
        peak = peak.max(tcp_memory());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Assert
    let grown = peak.saturating_sub(before);
    eprintln!(
        "kernel TCP memory grew {:.1} MB for {READERS} stalled readers ({:.1} kB each; cap {} kB)",
        grown as f64 / 1e6,
        grown as f64 / READERS as f64 / 1e3,
        cap / 1000
    );
    assert!(
        grown < READERS as u64 * cap,
        "the kernel holds {grown} bytes for {READERS} readers, more than {cap} each"
    );
    drop(readers);
    app.stop().await;
}
