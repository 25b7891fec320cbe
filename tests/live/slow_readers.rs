//! Clients that stop reading or go away: each is cut off once a write to it has waited longer
//! than `push.write_timeout_ms`, they do not hold up a shutdown, and a long poll whose client
//! left frees its place within about one probe interval.

use std::time::Duration;

use rocket::tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use rocket::tokio::net::{TcpSocket, TcpStream};
use serde_json::json;
use tokio_tungstenite::{WebSocketStream, client_async};

use crate::common::within;
use crate::launcher::{App, launch_with};
use crate::server::Server;

/// How long the tests let a write wait; short, so that the tests are quick.
const WRITE_TIMEOUT_MS: u64 = 500;

/// About 2 MiB of events: more than a socket's buffers hold for a client that never reads.
const FLOOD: usize = 150;

/// A connection to `port` with a 4 KiB receive buffer, so it fills at once.
async fn tight_connection(port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    within(PATIENCE, socket.connect(([127, 0, 0, 1], port).into()))
        .await
        .expect("connected")
}

const PATIENCE: Duration = Duration::from_secs(5);

/// Sends `GET path` on `tcp` and reads the status line of the answer.
async fn get(tcp: TcpStream, path: &str) -> (String, BufReader<TcpStream>) {
    let mut reader = BufReader::new(tcp);
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut status = String::new();
    within(PATIENCE, reader.read_line(&mut status))
        .await
        .expect("a status line");
    (status, reader)
}

/// Opens `path` with a plain GET and reads the answer's head, then never reads again.
async fn stalled_get(port: u16, path: &str) -> TcpStream {
    let (_, mut reader) = get(tight_connection(port).await, path).await;
    let mut line = String::new();
    while line != "\r\n" {
        line.clear();
        within(PATIENCE, reader.read_line(&mut line))
            .await
            .expect("a head line");
    }
    reader.into_inner()
}

/// Opens a WebSocket on `path` and then never reads from it.
async fn stalled_websocket(port: u16, path: &str) -> WebSocketStream<TcpStream> {
    let tcp = tight_connection(port).await;
    let url = format!("ws://127.0.0.1:{port}{path}");
    within(PATIENCE, client_async(url, tcp))
        .await
        .expect("a WebSocket")
        .0
}

/// True while the server side of the connection from local port `client` to `server` is
/// established (read from /proc/net/tcp, as `ss` does).
fn server_side_open(server: u16, client: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = |address: &str| {
        let hex = address.rsplit_once(':').map_or("", |(_, p)| p);
        u16::from_str_radix(hex, 16).ok()
    };
    table.lines().skip(1).any(|row| {
        let fields: Vec<&str> = row.split_whitespace().collect();
        fields.len() > 3
            && port(fields[1]) == Some(server)
            && port(fields[2]) == Some(client)
            && fields[3] == "01"
    })
}

/// Waits until the server has dropped its side of `tcp`.
async fn cut_off(app: &App, client: u16) {
    within(Duration::from_secs(15), async {
        while server_side_open(app.port, client) {
            // The kernel tells nobody when it ends a connection this way: look again soon.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

/// Publishes about 2 MiB on `ch`.
async fn flood(app: &App, ch: &str) {
    for _ in 0..FLOOD {
        app.publish(ch, json!({ "pad": "x".repeat(15_000) })).await;
    }
}

#[tokio::test]
async fn a_stream_reader_that_never_reads_is_cut_within_the_write_timeout() {
    // Arrange
    let app = launch_with(|f| f.merge(("push.write_timeout_ms", WRITE_TIMEOUT_MS))).await;
    let stalled = stalled_get(app.port, "/push/slow/sse").await;
    let client = stalled.local_addr().expect("a local address").port();

    // Act
    flood(&app, "slow").await;
    let open_while_flooded = server_side_open(app.port, client);
    cut_off(&app, client).await;

    // Assert: the connection was there, stalled, and the server let it go.
    assert!(open_while_flooded);
    drop(stalled);
    app.stop().await;
}

#[tokio::test]
async fn a_websocket_that_never_reads_is_cut_within_the_write_timeout() {
    // Arrange
    let app = launch_with(|f| f.merge(("push.write_timeout_ms", WRITE_TIMEOUT_MS))).await;
    let stalled = tight_connection(app.port).await;
    let client = stalled.local_addr().expect("a local address").port();
    let url = format!("ws://127.0.0.1:{}/push/slow/ws", app.port);
    let socket = within(PATIENCE, client_async(url, stalled))
        .await
        .expect("a WebSocket");

    // Act
    flood(&app, "slow").await;
    cut_off(&app, client).await;

    // Assert: reaching here means the server let the socket go.
    drop(socket);
    app.stop().await;
}

/// `reverse_ajax_disconnects_total` of `transport` for `reason`, from /metrics.
async fn disconnects(app: &App, transport: &str, reason: &str) -> u64 {
    let (_, body) = app.get("/metrics").await;
    let labels = format!("{{transport=\"{transport}\",reason=\"{reason}\"}}");
    body.lines()
        .find_map(|l| {
            l.strip_prefix("reverse_ajax_disconnects_total")?
                .strip_prefix(&labels)
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("a disconnect count")
}

#[tokio::test]
async fn a_websocket_cut_for_not_reading_counts_as_a_write_timeout() {
    // Arrange
    let app = launch_with(|f| f.merge(("push.write_timeout_ms", WRITE_TIMEOUT_MS))).await;
    let stalled = tight_connection(app.port).await;
    let client = stalled.local_addr().expect("a local address").port();
    let socket = within(PATIENCE, client_async(app.ws("/push/slow/ws"), stalled))
        .await
        .expect("a WebSocket");

    // Act
    flood(&app, "slow").await;
    cut_off(&app, client).await;
    // The count moves when the session ends, after its close frame and lingering close.
    within(Duration::from_secs(10), async {
        while disconnects(&app, "websocket", "write_timeout").await == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;

    // Assert
    assert_eq!(disconnects(&app, "websocket", "write_timeout").await, 1);
    assert_eq!(disconnects(&app, "websocket", "client").await, 0);
    drop(socket);
    app.stop().await;
}

#[tokio::test]
async fn a_stream_cut_for_not_reading_counts_as_a_write_timeout() {
    // Arrange: one reader that stops reading on each streaming transport.
    let app = launch_with(|f| f.merge(("push.write_timeout_ms", WRITE_TIMEOUT_MS))).await;
    let transports = [
        ("/push/slow/sse", "server-sent-events"),
        ("/push/slow/iframe", "forever-iframe"),
        ("/push/slow/multipart", "multipart-streaming"),
    ];
    let mut stalled = Vec::new();
    for (path, _) in transports {
        stalled.push(stalled_get(app.port, path).await);
    }

    // Act: more than their buffers hold, then wait for the kernel to end each connection and
    // for the server to drop the stream behind it.
    flood(&app, "slow").await;
    for tcp in &stalled {
        cut_off(&app, tcp.local_addr().expect("a local address").port()).await;
    }
    within(Duration::from_secs(10), async {
        for (_, transport) in transports {
            while disconnects(&app, transport, "write_timeout").await == 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    })
    .await;

    // Assert: each was counted once, as a write timeout and not as a client that left.
    for (_, transport) in transports {
        assert_eq!(
            disconnects(&app, transport, "write_timeout").await,
            1,
            "{transport}"
        );
        assert_eq!(
            disconnects(&app, transport, "client").await,
            0,
            "{transport}"
        );
    }
    drop(stalled);
    app.stop().await;
}

/// How long after Rocket's last timer (one second after the grace period when a connection is
/// still stalled) the process may take to end and be reaped on a busy machine.
const EXIT_SLACK: Duration = Duration::from_millis(300);

/// One reader that stopped reading on every streaming transport of `server`, each with about
/// 2 MiB of events waiting for it.
async fn stall_every_transport(server: &Server) -> (Vec<TcpStream>, WebSocketStream<TcpStream>) {
    let mut stalled = Vec::new();
    for path in [
        "/push/slow/sse",
        "/push/slow/iframe",
        "/push/slow/multipart",
    ] {
        stalled.push(stalled_get(server.port, path).await);
    }
    let socket = stalled_websocket(server.port, "/push/slow/ws").await;
    for _ in 0..FLOOD {
        server
            .publish("slow", &json!({ "pad": "x".repeat(15_000) }))
            .await;
    }
    (stalled, socket)
}

#[tokio::test]
async fn sigterm_with_stalled_readers_exits_within_grace_and_one_second() {
    // Arrange: the real binary, with a one-second grace period.
    let server = Server::start(&[("ROCKET_SHUTDOWN", "{grace=1}")]).await;
    let stalled = stall_every_transport(&server).await;

    // Act
    let exited = server
        .terminate(Duration::from_secs(1 + 1) + EXIT_SLACK)
        .await;

    // Assert
    assert!(exited.success(), "the server exits cleanly: {exited:?}");
    drop(stalled);
}

#[tokio::test]
async fn sigterm_with_stalled_readers_and_the_shipped_configuration_exits_within_grace_and_one_second()
 {
    // Arrange: the real binary with Rocket.toml and the code's defaults as shipped.
    let grace: u64 = reverse_ajax::config::figment()
        .extract_inner("shutdown.grace")
        .expect("a shipped grace period");
    let server = Server::start(&[]).await;
    let stalled = stall_every_transport(&server).await;

    // Act
    let exited = server
        .terminate(Duration::from_secs(grace + 1) + EXIT_SLACK)
        .await;

    // Assert
    assert!(exited.success(), "the server exits cleanly: {exited:?}");
    drop(stalled);
}

/// Sends a long poll on `ch` over a fresh connection and reads the status line of the
/// answer's head (a held poll sends its head after one probe interval).
async fn long_poll(port: u16, ch: &str) -> (String, BufReader<TcpStream>) {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connected");
    get(tcp, &format!("/push/{ch}/long-poll")).await
}

#[tokio::test]
async fn a_long_poll_whose_client_left_frees_its_place_within_a_probe_interval() {
    // Arrange: room for one channel, held by a long poll on a channel nobody publishes to.
    let app = launch_with(|f| {
        f.merge(("hub.max_channels", 1))
            .merge(("push.probe_ms", 200))
            .merge(("push.long_poll_max_ms", 60_000))
    })
    .await;
    let (held, left) = long_poll(app.port, "gone").await;
    let (refused, _) = long_poll(app.port, "other").await;

    // Act: the client of the held poll goes away.
    drop(left);
    let freed = within(Duration::from_secs(3), async {
        loop {
            let (status, _) = long_poll(app.port, "other").await;
            if !status.contains(" 503 ") {
                return status;
            }
            // The place frees itself without telling anyone: ask again shortly.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;

    // Assert
    assert!(
        held.starts_with("HTTP/1.1 200"),
        "the poll was held: {held}"
    );
    assert!(
        refused.contains(" 503 "),
        "the only place was taken: {refused}"
    );
    assert!(freed.starts_with("HTTP/1.1 200"), "{freed}");
    app.stop().await;
}
