//! The JS client (`static/client/`) in Chromium, against the real app behind the proxies a
//! visitor may sit behind, each started by the test: nginx passing everything through, nginx
//! not forwarding WebSocket upgrades, a proxy that holds every answer until it ends (and
//! refuses upgrades), and a proxy that cuts every connection a few seconds after it opened.
//! In each, the events published during the run reach `onEvent` exactly once, in order, with
//! no reset, over the transport the proxy leaves usable. A server restart gives one reset.
//! Each runs in Chromium and in Firefox ESR.

use std::time::{Duration, Instant};

use fantoccini::Client;
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::harness::{
    App, CHANNEL, Ctx, Engine, TestResult, browser_test_in, in_each_browser, wait_for,
};
use crate::nginx::{self, Nginx};

/// The test page: it imports the client and records what it reports in `window.seen`.
const PAGE: &str = "/static/client/browser-test/page.html";
/// Events published during each run.
const EVENTS: usize = 8;
/// The server's long-poll cap in these tests, and the client's idea of it.
const CAP_MS: u64 = 2000;
/// How long a transport may take to open in these tests (the client's default is 5 s).
const OPEN_MS: u64 = 3000;
/// How long the client may take to settle: three streams giving up one after the other.
const SETTLE: Duration = Duration::from_secs(40);
/// How long the events may take to arrive once published.
const DELIVER: Duration = Duration::from_secs(30);
/// The buffering proxy passes a body on once this much of it has come.
const HOLD_BYTES: usize = 256 * 1024;
/// The cutting proxy's connections live this long.
const CUT_AFTER: Duration = Duration::from_secs(3);

/// nginx as a plain reverse proxy that streams but never passes `Upgrade` on.
pub(crate) const WITHOUT_UPGRADES: &str = "location / {
    proxy_pass http://reverse_ajax;
    proxy_http_version 1.1;
    proxy_set_header Host $http_host;
    proxy_buffering off;
    proxy_read_timeout 120s;
}";

/// What the test page recorded.
#[derive(Debug, Deserialize)]
pub(crate) struct Seen {
    pub(crate) events: Vec<String>,
    resets: Vec<Value>,
    pub(crate) states: Vec<Value>,
    status: String,
    pub(crate) transport: Option<String>,
    /// When the first event reached `onEvent`, in ms since the page's navigation began.
    #[serde(rename = "firstEventMs")]
    pub(crate) first_event_ms: Option<f64>,
}

impl Seen {
    /// How many times the connection reported `open`.
    fn opens(&self) -> usize {
        self.states.iter().filter(|s| s["status"] == "open").count()
    }
}

pub(crate) async fn seen(client: &Client) -> TestResult<Seen> {
    let js =
        "return window.seen ?? {events: [], resets: [], states: [], status: '', transport: null}";
    Ok(serde_json::from_value(client.execute(js, vec![]).await?)?)
}

/// The test page at `origin`, on the test channel, with the tests' timeouts.
pub(crate) fn page(origin: &str) -> String {
    format!("{origin}{PAGE}?channel={CHANNEL}&open={OPEN_MS}&cap={CAP_MS}")
}

/// The app's settings for these runs: pages from the proxy on `proxy_port` may open
/// WebSockets, and long polls are answered within [`CAP_MS`].
pub(crate) fn behind(
    proxy_port: u16,
) -> impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment {
    move |figment| {
        figment
            .merge((
                "push.allowed_origins",
                [format!("http://127.0.0.1:{proxy_port}")],
            ))
            .merge(("push.long_poll_max_ms", CAP_MS))
    }
}

/// Loads the page from `origin`, waits until the client is open over `transport`, publishes
/// [`EVENTS`] events paced over a few seconds, and checks that each arrived once, in order,
/// with no reset. Returns what the page saw.
async fn run(t: &Ctx, origin: &str, transport: &str) -> TestResult<Seen> {
    let started = Instant::now();
    t.client.goto(&page(origin)).await?;
    let what = format!("the client open over {transport}");
    wait_for(&t.client, &what, SETTLE, seen, |s| {
        s.status == "open" && s.transport.as_deref() == Some(transport)
    })
    .await?;
    let opened = started.elapsed();
    let mut published = Vec::new();
    let mut first = None;
    for i in 1..=EVENTS {
        let sent = Instant::now();
        published.push(t.app.publish(&format!("event {i}")).await);
        if i == 1 {
            wait_for(&t.client, "the first event", DELIVER, seen, |s| {
                !s.events.is_empty()
            })
            .await?;
            first = Some(sent.elapsed());
        }
        // Pacing, so that the events straddle reconnections; nothing waits on it.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // A figure for the README, not a timed assertion.
    eprintln!(
        "{transport} via {origin}: open after {opened:.1?}, first event {first:.1?} after its publish"
    );
    let seen = wait_for(&t.client, "every event delivered", DELIVER, seen, |s| {
        s.events.len() >= EVENTS
    })
    .await?;
    assert_eq!(seen.events, published, "each event once, in order");
    assert!(seen.resets.is_empty(), "no reset: {:?}", seen.resets);
    assert_eq!(
        seen.transport.as_deref(),
        Some(transport),
        "{:#?}",
        seen.states
    );
    Ok(seen)
}

async fn behind_nginx_the_client_settles_on_websocket(engine: Engine) {
    let name = "behind_nginx_the_client_settles_on_websocket";
    let Some(binary) = nginx::binary(name) else {
        return;
    };
    let port = nginx::free_port();
    browser_test_in(engine, name, behind(port), async |t| {
        let server = nginx::shipped_server();
        let _nginx = Nginx::start_with(&binary, t.app.port, port, &server).await;
        let seen = run(t, &format!("http://127.0.0.1:{port}"), "websocket").await?;
        let fallbacks = seen.states.iter().filter(|s| s["fallbacks"] != 0).count();
        assert_eq!(fallbacks, 0, "{:#?}", seen.states);
        Ok(())
    })
    .await;
}

async fn behind_nginx_without_upgrades_the_client_settles_on_server_sent_events(engine: Engine) {
    let name = "behind_nginx_without_upgrades_the_client_settles_on_server_sent_events";
    let Some(binary) = nginx::binary(name) else {
        return;
    };
    let port = nginx::free_port();
    browser_test_in(engine, name, behind(port), async |t| {
        let _nginx = Nginx::start_with(&binary, t.app.port, port, WITHOUT_UPGRADES).await;
        let seen = run(t, &format!("http://127.0.0.1:{port}"), "server-sent-events").await?;
        let fallback = seen.states.iter().find(|s| s["fallbacks"] == 1);
        let cause = fallback
            .and_then(|s| s["cause"].as_str())
            .unwrap_or_default();
        assert!(cause.starts_with("websocket:"), "{:#?}", seen.states);
        Ok(())
    })
    .await;
}

async fn behind_a_buffering_proxy_the_client_settles_on_a_long_poll(engine: Engine) {
    let name = "behind_a_buffering_proxy_the_client_settles_on_a_long_poll";
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    browser_test_in(engine, name, behind(port), async |t| {
        let _proxy = Proxy::spawn(buffering(listener, t.app.port));
        let seen = run(t, &format!("http://127.0.0.1:{port}"), "long-polling").await?;
        // WebSocket refused, then three streams held back until the open timeout.
        let last = seen.states.last().ok_or("no state")?;
        assert_eq!(last["fallbacks"], 4, "{:#?}", seen.states);
        Ok(())
    })
    .await;
}

async fn behind_a_proxy_that_cuts_connections_the_client_keeps_resuming(engine: Engine) {
    let name = "behind_a_proxy_that_cuts_connections_the_client_keeps_resuming";
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    browser_test_in(engine, name, behind(port), async |t| {
        let _proxy = Proxy::spawn(cutting(listener, t.app.port));
        let seen = run(t, &format!("http://127.0.0.1:{port}"), "websocket").await?;
        assert!(seen.opens() >= 2, "it reconnected: {:#?}", seen.states);
        Ok(())
    })
    .await;
}

async fn a_server_restart_gives_one_reset_with_its_reason_then_events_again(engine: Engine) {
    let name = "a_server_restart_gives_one_reset_with_its_reason_then_events_again";
    browser_test_in(
        engine,
        name,
        |f| f,
        async |t| {
            // An app of the test's own on a fixed port, so that its successor can take the port.
            let port = nginx::free_port();
            let on_port = move |f: rocket::figment::Figment| f.merge(("port", port));
            let first = App::launch_with(on_port).await;
            t.client.goto(&page(&first.url(""))).await?;
            wait_for(&t.client, "the client open", SETTLE, seen, |s| {
                s.status == "open"
            })
            .await?;
            let before = first.publish("before the restart").await;
            wait_for(&t.client, "the first event", DELIVER, seen, |s| {
                s.events == [before.clone()]
            })
            .await?;
            first.stop().await;

            let second = App::launch_with(on_port).await;
            let reset = wait_for(&t.client, "a reset", DELIVER, seen, |s| {
                !s.resets.is_empty()
            })
            .await;
            let after = second.publish("after the restart").await;
            let last = wait_for(
                &t.client,
                "the event after the restart",
                DELIVER,
                seen,
                |s| s.events.contains(&after),
            )
            .await;
            second.stop().await;
            reset?;
            let last = last?;
            assert_eq!(last.events, [before, after]);
            assert_eq!(last.resets.len(), 1, "{:?}", last.resets);
            assert_eq!(last.resets[0]["reason"], "unknown_epoch");
            Ok(())
        },
    )
    .await;
}

in_each_browser!(
    behind_nginx_the_client_settles_on_websocket,
    behind_nginx_without_upgrades_the_client_settles_on_server_sent_events,
    behind_a_buffering_proxy_the_client_settles_on_a_long_poll,
    behind_a_proxy_that_cuts_connections_the_client_keeps_resuming,
    a_server_restart_gives_one_reset_with_its_reason_then_events_again,
    the_client_page_uses_the_best_transport_left_allowed_and_shows_events,
);

/// A proxy's accept loop, stopped (with every connection it serves) when dropped.
pub(crate) struct Proxy(tokio::task::JoinHandle<()>);

impl Proxy {
    pub(crate) fn spawn(serve: impl Future<Output = ()> + Send + 'static) -> Proxy {
        Proxy(tokio::spawn(serve))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves each connection to `listener` with `handle`, until aborted; aborting drops the
/// JoinSet, which aborts the connections too.
pub(crate) async fn serve<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    while let Ok((client, _)) = listener.accept().await {
        connections.spawn(handle(client));
        while connections.try_join_next().is_some() {}
    }
}

/// A proxy that cuts every connection [`CUT_AFTER`] after it opened, whatever flows.
pub(crate) async fn cutting(listener: TcpListener, upstream: u16) {
    serve(listener, move |mut client| async move {
        let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
            return;
        };
        let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
        let _cut = tokio::time::timeout(CUT_AFTER, copy).await;
    })
    .await;
}

/// A proxy that refuses upgrades and holds every answer until it ends or [`HOLD_BYTES`] of it
/// have come, as a virus scanner or a corporate proxy does. Each request gets a connection of
/// its own upstream (`Connection: close`), so an answer's end is the connection's.
pub(crate) async fn buffering(listener: TcpListener, upstream: u16) {
    serve(listener, move |client| buffer_one(client, upstream)).await;
}

async fn buffer_one(mut client: TcpStream, upstream: u16) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > 64 * 1024 {
            return;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    if lines
        .iter()
        .any(|l| l.to_ascii_lowercase().starts_with("upgrade:"))
    {
        let refusal = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let _sent = client.write_all(refusal.as_bytes()).await;
        return;
    }
    lines.retain(|l| {
        let l = l.to_ascii_lowercase();
        !l.starts_with("connection:") && !l.starts_with("keep-alive:")
    });
    let mut request = lines.join("\r\n").into_bytes();
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    request.extend_from_slice(&head[end..]);
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    if server_out.write_all(&request).await.is_err() {
        return;
    }
    let forward = tokio::io::copy(&mut client_in, &mut server_out);
    let hold = async {
        let mut held = Vec::new();
        let mut passing = false;
        let mut chunk = [0u8; 8192];
        loop {
            let n = server_in.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            held.extend_from_slice(&chunk[..n]);
            if passing || held.len() >= HOLD_BYTES {
                passing = true;
                client_out.write_all(&held).await?;
                held.clear();
            }
        }
        client_out.write_all(&held).await?;
        client_out.shutdown().await?;
        Ok::<(), std::io::Error>(())
    };
    tokio::select! {
        _ = forward => {}
        _ = hold => {}
    }
}

/// The `/client` page's status line and the ids of the events it listed.
#[derive(Debug, Deserialize)]
struct ClientPage {
    status: String,
    transport: String,
    ids: Vec<String>,
}

async fn client_page(client: &Client) -> TestResult<ClientPage> {
    let js = "const s = document.getElementById('client-status');
        const ids = [...document.querySelectorAll('#client-events li[data-id]')].map((li) => li.dataset.id);
        return {status: s?.dataset.status ?? '', transport: s?.dataset.transport ?? '', ids};";
    Ok(serde_json::from_value(client.execute(js, vec![]).await?)?)
}

async fn the_client_page_uses_the_best_transport_left_allowed_and_shows_events(engine: Engine) {
    let name = "the_client_page_uses_the_best_transport_left_allowed_and_shows_events";
    browser_test_in(
        engine,
        name,
        |f| f,
        async |t| {
            t.load("/client").await?;
            wait_for(&t.client, "open over websocket", SETTLE, client_page, |p| {
                p.status == "open" && p.transport == "websocket"
            })
            .await?;
            t.click("#client-transports input[value=websocket]").await?;
            t.click("#client-connect").await?;
            wait_for(&t.client, "open over SSE", SETTLE, client_page, |p| {
                p.status == "open" && p.transport == "server-sent-events"
            })
            .await?;
            let id = t.app.publish("shown on the client page").await;
            wait_for(&t.client, "the event listed", DELIVER, client_page, |p| {
                p.ids.contains(&id)
            })
            .await?;
            Ok(())
        },
    )
    .await;
}
