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
use tokio::net::TcpListener;

use crate::harness::{
    App, CHANNEL, Ctx, Engine, TestResult, browser_test_in, in_each_browser, wait_for,
};
use crate::nginx::{self, Nginx};
use crate::proxies::{NO_UPGRADES, Proxy, buffering, cutting};

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
        let _nginx = Nginx::start_with(&binary, t.app.port, port, NO_UPGRADES).await;
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
