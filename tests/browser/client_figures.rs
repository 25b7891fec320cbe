//! Figures for the JS client, not a timed test: how long a page takes from navigation to its
//! first event behind each proxy of `client_library.rs`, and how many requests the client
//! sends to the push endpoints before that event (what its fallbacks cost). Ignored by
//! default; run it with
//!
//! ```text
//! cargo test --test browser client_figures -- --ignored --nocapture
//! ```
//!
//! (`BROWSER=firefox` for Firefox ESR). Each run is a cold visitor: a fresh app, proxy and
//! browser profile. The test publishes an event every [`TICK`] from the navigation on, so the
//! first event arrives at most one tick after the client can receive.

use std::path::Path;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::client_library::{behind, page, seen};
use crate::harness::{Ctx, Engine, TestResult, browser_test_in, wait_for};
use crate::nginx::{self, Nginx};
use crate::proxies::{NO_UPGRADES, Proxy, buffering, cutting, serve};

/// Runs per configuration.
const RUNS: usize = 10;
/// How often the test publishes while it waits for the first event.
const TICK: Duration = Duration::from_millis(50);
/// The longest the first event may take (three streams giving up, then a long poll).
const FIRST: Duration = Duration::from_secs(40);

/// The proxy in front of the app in one configuration.
#[derive(Clone, Copy, Debug)]
enum Setup {
    Nginx,
    NginxWithoutUpgrades,
    Buffering,
    Cutting,
}

/// What one run measured.
#[derive(Debug)]
struct Sample {
    first_event_ms: f64,
    requests: usize,
    fallbacks: u64,
    transport: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "figures for the README, printed; run with --ignored --nocapture"]
async fn client_figures() {
    let Some(binary) = nginx::binary("client_figures") else {
        return;
    };
    let engine = Engine::from_env();
    let setups = [
        ("(a) nginx", Setup::Nginx),
        ("(b) nginx without upgrades", Setup::NginxWithoutUpgrades),
        ("(c) buffering proxy", Setup::Buffering),
        ("(d) cutting proxy", Setup::Cutting),
    ];
    let mut table = Vec::new();
    for (label, setup) in setups {
        let samples = Mutex::new(Vec::new());
        for _ in 0..RUNS {
            let counter = Counter::start().await;
            browser_test_in(engine, "client_figures", behind(counter.port), async |t| {
                let (upstream, _nginx, _proxy) = front(setup, &binary, t.app.port).await?;
                counter.forward_to(upstream);
                let sample = one_run(t, &counter).await?;
                samples.lock().map_err(|_| "poisoned")?.push(sample);
                Ok(())
            })
            .await;
        }
        let samples = samples.into_inner().unwrap_or_default();
        table.push((label, summary(&samples)));
    }
    println!("\nThe client in {engine}: p50 of {RUNS} cold runs per configuration");
    println!(
        "{:<28} {:>12} {:>24} {:>10}  transport",
        "", "first event", "push requests before it", "fallbacks"
    );
    for (label, line) in table {
        println!("{label:<28} {line}");
    }
}

/// Starts the proxy of `setup` in front of the app on `app_port`: its port, and what keeps it
/// running.
async fn front(
    setup: Setup,
    binary: &Path,
    app_port: u16,
) -> TestResult<(u16, Option<Nginx>, Option<Proxy>)> {
    let server = match setup {
        Setup::Nginx => nginx::shipped_server(),
        Setup::NginxWithoutUpgrades => NO_UPGRADES.to_owned(),
        Setup::Buffering | Setup::Cutting => {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let port = listener.local_addr()?.port();
            let proxy = match setup {
                Setup::Buffering => Proxy::spawn(buffering(listener, app_port)),
                _ => Proxy::spawn(cutting(listener, app_port)),
            };
            return Ok((port, None, Some(proxy)));
        }
    };
    let port = nginx::free_port();
    let nginx = Nginx::start_with(binary, app_port, port, &server).await;
    Ok((port, Some(nginx), None))
}

/// Loads the test page through the counter, publishes every [`TICK`] until the first event
/// arrives, and reads what it cost.
async fn one_run(t: &Ctx, counter: &Counter) -> TestResult<Sample> {
    t.client.goto(&page(&counter.origin())).await?;
    let ticker = async {
        loop {
            t.app.publish("tick").await;
            tokio::time::sleep(TICK).await;
        }
    };
    let first = wait_for(&t.client, "the first event", FIRST, seen, |s| {
        s.first_event_ms.is_some()
    });
    let seen = tokio::select! {
        seen = first => seen?,
        () = ticker => unreachable!("the ticker never stops"),
    };
    let first_event_ms = seen.first_event_ms.ok_or("no first event")?;
    let origin = t
        .client
        .execute("return performance.timeOrigin", vec![])
        .await?
        .as_f64()
        .ok_or("no timeOrigin")?;
    let fallbacks = seen
        .states
        .iter()
        .filter_map(|s| s["fallbacks"].as_u64())
        .max()
        .unwrap_or(0);
    Ok(Sample {
        first_event_ms,
        requests: counter.before(origin + first_event_ms),
        fallbacks,
        transport: seen.transport.unwrap_or_default(),
    })
}

/// The median of `values` (the lower middle one for an even count).
fn p50<T: Copy + PartialOrd>(values: &mut [T]) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values[(values.len() - 1) / 2]
}

/// One line of the table: p50 of the time and of the requests, fallbacks and transports seen.
fn summary(samples: &[Sample]) -> String {
    let mut times: Vec<f64> = samples.iter().map(|s| s.first_event_ms).collect();
    let mut requests: Vec<usize> = samples.iter().map(|s| s.requests).collect();
    let mut fallbacks: Vec<u64> = samples.iter().map(|s| s.fallbacks).collect();
    let (min, max) = (
        requests.iter().min().copied().unwrap_or(0),
        requests.iter().max().copied().unwrap_or(0),
    );
    let mut transports: Vec<&str> = samples.iter().map(|s| s.transport.as_str()).collect();
    transports.dedup();
    format!(
        "{:>13.0} ms {:>14} ({min}–{max}) {:>10}  {}",
        p50(&mut times),
        p50(&mut requests),
        p50(&mut fallbacks),
        transports.join("/"),
    )
}

/// A pass-through relay the browser talks to, which notes when each request to a push
/// endpoint (`/push/…`, `/api/…`) starts, WebSocket handshakes included.
struct Counter {
    port: u16,
    upstream: Arc<AtomicU16>,
    /// Wall-clock times (ms since the epoch) of the push requests seen.
    noted: Arc<Mutex<Vec<f64>>>,
    _relay: Proxy,
}

impl Counter {
    async fn start() -> Counter {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("its address").port();
        let upstream = Arc::new(AtomicU16::new(0));
        let noted = Arc::new(Mutex::new(Vec::new()));
        let (to, notes) = (upstream.clone(), noted.clone());
        let accept = Proxy::spawn(serve(listener, move |client| {
            relay(client, to.load(Ordering::Relaxed), notes.clone())
        }));
        Counter {
            port,
            upstream,
            noted,
            _relay: accept,
        }
    }

    /// Sends the connections that come from now on to `port`.
    fn forward_to(&self, port: u16) {
        self.upstream.store(port, Ordering::Relaxed);
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many push requests started before `wall_ms` (ms since the epoch).
    fn before(&self, wall_ms: f64) -> usize {
        let noted = self.noted.lock().map(|n| n.clone()).unwrap_or_default();
        noted.iter().filter(|&&at| at < wall_ms).count()
    }
}

/// Copies `client` to the server on `port` and back, noting each push request it sends.
async fn relay(mut client: TcpStream, port: u16, noted: Arc<Mutex<Vec<f64>>>) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", port)).await else {
        return;
    };
    let (mut server_in, mut server_out) = server.into_split();
    let (mut client_in, mut client_out) = client.split();
    let up = async {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = client_in.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            let pushes = push_requests(&chunk[..n]);
            if pushes > 0 {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
                if let Ok(mut noted) = noted.lock() {
                    noted.extend(std::iter::repeat_n(now, pushes));
                }
            }
            server_out.write_all(&chunk[..n]).await?;
        }
        server_out.shutdown().await
    };
    let down = tokio::io::copy(&mut server_in, &mut client_out);
    let _ended = tokio::join!(up, down);
}

/// How many request lines for a push endpoint start in `bytes` (at its start or after a
/// line break): `GET /push/…`, `POST /api/…` and the like.
fn push_requests(bytes: &[u8]) -> usize {
    let starts = std::iter::once(0).chain(
        bytes
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .map(|(i, _)| i + 1),
    );
    starts
        .filter(|&at| {
            let line = &bytes[at..];
            ["GET /push/", "GET /api/", "POST /push/", "POST /api/"]
                .iter()
                .any(|start| line.starts_with(start.as_bytes()))
        })
        .count()
}
