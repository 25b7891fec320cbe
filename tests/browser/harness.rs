//! The browser harness: the real app on a free port, a chromedriver child, a headless Chromium
//! session, and waits that poll the DOM under a timeout.
//!
//! A test is one call to [`browser_test`]. It skips (or fails under `CI`) when Chromium is
//! missing, runs the body under an overall timeout, fails on any Content Security Policy
//! violation the browser logged meanwhile, and always closes the browser session, stops
//! chromedriver and shuts the app down before it reports the outcome.

use std::fmt::Debug;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use reverse_ajax::hub::{Channel, Hub, Payload};
use rocket::Shutdown;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::console;

/// What a test body returns; `?` works on WebDriver errors and on failed waits.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The longest any single wait may take.
pub const WAIT: Duration = Duration::from_secs(15);
/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(50);
/// The longest a whole test body may take.
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// The longest chromedriver may take to accept connections.
const DRIVER_START: Duration = Duration::from_secs(10);
/// The longest chromedriver and Chromium together may take to open a session.
const BROWSER_START: Duration = Duration::from_secs(30);

/// The visitor channel the tests' pages use: [`Ctx::open`] names it in the page URL, and
/// [`App::publish`] publishes on it.
pub const CHANNEL: &str = "demo-browsertest";

/// Everything a test body works with: the running app and a browser pointed at nothing yet.
pub struct Ctx {
    pub app: App,
    pub client: Client,
    tools: Tools,
    /// Browsers opened by [`Ctx::second_browser`], closed with the first.
    extra: tokio::sync::Mutex<Vec<Browser>>,
}

impl Ctx {
    /// Loads `path` (such as `/polling?interval=0.2`) from the app, on the test channel
    /// ([`CHANNEL`]) with the quiet pattern, unless `path` names a channel or a pattern itself.
    pub async fn open(&self, path: &str) -> TestResult {
        self.client
            .goto(&self.app.url(&on_test_channel(path)))
            .await?;
        Ok(())
    }

    /// Opens `path` as [`Ctx::open`] does and waits until the document has finished loading.
    pub async fn load(&self, path: &str) -> TestResult {
        self.open(path).await?;
        wait_for(
            &self.client,
            &format!("{path} to finish loading"),
            WAIT,
            async |c| Ok(c.execute("return document.readyState", vec![]).await?),
            |state| state == "complete",
        )
        .await?;
        Ok(())
    }

    /// Loads `path` as it is: the page picks its channel as a visitor's page would.
    pub async fn open_as_visitor(&self, client: &Client, path: &str) -> TestResult {
        client.goto(&self.app.url(path)).await?;
        Ok(())
    }

    /// Starts one more browser with a profile of its own (another visitor, with its own
    /// storage and cookies); it is closed when the test ends.
    pub async fn second_browser(&self) -> TestResult<Client> {
        let browser = tokio::time::timeout(BROWSER_START, Browser::start(&self.tools))
            .await
            .map_err(|_| format!("a second browser did not start within {BROWSER_START:?}"))??;
        let client = browser.client.clone();
        self.extra.lock().await.push(browser);
        Ok(client)
    }

    /// Waits until the demo widgets satisfy `done`; see [`wait_for`].
    pub async fn wait_demo(&self, what: &str, done: impl Fn(&Demo) -> bool) -> TestResult<Demo> {
        wait_for(&self.client, what, WAIT, demo, done).await
    }

    /// Reads the demo widgets once.
    pub async fn demo(&self) -> TestResult<Demo> {
        demo(&self.client).await
    }

    /// The text of every `#log` entry, top to bottom.
    pub async fn log_texts(&self) -> TestResult<Vec<String>> {
        log_texts(&self.client).await
    }

    /// Waits until the `#log` texts satisfy `done`; see [`wait_for`].
    pub async fn wait_log(
        &self,
        what: &str,
        done: impl Fn(&Vec<String>) -> bool,
    ) -> TestResult<Vec<String>> {
        wait_for(&self.client, what, WAIT, log_texts, done).await
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) -> TestResult {
        self.client.find(Locator::Css(css)).await?.click().await?;
        Ok(())
    }
}

/// Runs `body` against a fresh app and browser and cleans both up, whatever the body does.
///
/// Skips with a notice when Chromium or chromedriver is missing, unless `CI` is set.
pub async fn browser_test(name: &str, body: impl AsyncFnOnce(&Ctx) -> TestResult) {
    run_browser_test(name, App::launch(), body).await;
}

/// [`browser_test`] with the app's configuration changed by `configure` (see
/// [`App::launch_with`]), e.g. a small `push.iframe_budget` or a short `push.long_poll_max_ms`.
pub async fn browser_test_with(
    name: &str,
    configure: impl FnOnce(Figment) -> Figment,
    body: impl AsyncFnOnce(&Ctx) -> TestResult,
) {
    run_browser_test(name, App::launch_with(configure), body).await;
}

/// The body of [`browser_test`]: `launch` is only awaited once the browser is known to exist.
async fn run_browser_test(
    name: &str,
    launch: impl Future<Output = App>,
    body: impl AsyncFnOnce(&Ctx) -> TestResult,
) {
    let Some(tools) = tools(name) else { return };
    let tools_for_ctx = tools.clone();
    let started = Instant::now();
    let app = launch.await;
    let browser = match tokio::time::timeout(BROWSER_START, Browser::start(&tools)).await {
        Ok(Ok(browser)) => browser,
        Ok(Err(e)) => {
            app.stop().await;
            panic!("{name}: could not start the browser: {e}");
        }
        Err(_) => {
            app.stop().await;
            panic!("{name}: the browser did not start within {BROWSER_START:?}");
        }
    };
    let ctx = Ctx {
        app,
        client: browser.client.clone(),
        tools: tools_for_ctx,
        extra: tokio::sync::Mutex::new(Vec::new()),
    };
    let outcome =
        tokio::time::timeout(TEST_LIMIT, AssertUnwindSafe(body(&ctx)).catch_unwind()).await;
    let csp = csp_report(&ctx.client).await;
    // A failed body reports its own error below; a violation may be what caused it.
    if let (Some(csp), false) = (&csp, matches!(outcome, Ok(Ok(Ok(()))))) {
        eprintln!("{name}: {csp}");
    }
    let Ctx {
        app, client, extra, ..
    } = ctx;
    drop(client);
    for other in extra.into_inner() {
        other.close().await;
    }
    browser.close().await;
    app.stop().await;
    match outcome {
        Err(_) => panic!("{name}: gave up after {TEST_LIMIT:?}"),
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Ok(Ok(Err(e))) => panic!("{name}: {e}"),
        Ok(Ok(Ok(()))) => match csp {
            Some(csp) => panic!("{name}: {csp}"),
            None => eprintln!("{name}: passed in {:.1?}", started.elapsed()),
        },
    }
}

/// `path` with `channel=` [`CHANNEL`] and `pattern=quiet` added to its query, each unless the
/// query already has one.
pub fn on_test_channel(path: &str) -> String {
    let mut url = path.to_owned();
    for (key, value) in [("channel", CHANNEL), ("pattern", "quiet")] {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        if query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(key))
        {
            continue;
        }
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("{key}={value}"));
    }
    url
}

/// What is wrong with the policy in this test's browser console, if anything: the
/// violations logged so far, or why the console could not be read.
async fn csp_report(client: &Client) -> Option<String> {
    let read = tokio::time::timeout(Duration::from_secs(10), console::csp_violations(client));
    match read.await {
        Ok(Ok(violations)) if violations.is_empty() => None,
        Ok(Ok(violations)) => Some(format!(
            "{} CSP violation(s) in the browser console:\n{}",
            violations.len(),
            violations.join("\n")
        )),
        Ok(Err(e)) => Some(format!("could not read the browser console: {e}")),
        Err(_) => Some("reading the browser console took over 10 s".to_owned()),
    }
}

/// Polls `probe` every 50 ms until `done` holds for what it returned, or fails after
/// `timeout` with a message naming `what` was awaited and the last state seen.
pub async fn wait_for<T: Debug>(
    client: &Client,
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut(&Client) -> TestResult<T>,
    done: impl Fn(&T) -> bool,
) -> TestResult<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let state = probe(client).await?;
        if done(&state) {
            return Ok(state);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "timed out after {timeout:?} waiting for {what}; last seen: {state:#?}"
            )
            .into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A snapshot of a demo page's log, counters and in-flight JSONP scripts.
#[derive(Debug, Clone, Deserialize)]
pub struct Demo {
    /// `data-id` of every `li.log-entry[data-kind=event]` in `#log`, top to bottom.
    pub log_ids: Vec<Option<String>>,
    /// Text of every `li.log-entry[data-kind=error]`.
    pub log_errors: Vec<String>,
    /// `data-id` of every `#event-log li[data-id]`, top to bottom.
    pub rows: Vec<String>,
    /// The counters as numbers; `None` when missing or not a plain number.
    pub requests: Option<f64>,
    pub empty: Option<f64>,
    pub events: Option<f64>,
    pub bytes: Option<f64>,
    pub frames: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    /// Request marks on the live timeline (`.live-timeline .mark-req`).
    pub marks: usize,
    /// Text of the "Raw answer" panel.
    pub raw: Option<String>,
    /// Text of `#pattern-status`.
    pub pattern_status: Option<String>,
    /// `<script>` elements whose `src` contains `api/channels`.
    pub scripts: usize,
    /// Text of `#form-result`.
    pub form_result: Option<String>,
    /// Text of each `.field-error`, by its `data-field`.
    pub field_errors: serde_json::Map<String, Value>,
}

impl Demo {
    /// The event ids in the log (an entry without `data-id` counts as "").
    pub fn ids(&self) -> Vec<String> {
        self.log_ids
            .iter()
            .map(|id| id.clone().unwrap_or_default())
            .collect()
    }

    /// The trimmed text of the field error for `field`, if that element exists.
    pub fn field_error(&self, field: &str) -> Option<&str> {
        self.field_errors.get(field).and_then(Value::as_str)
    }
}

const DEMO_JS: &str = r#"
const num = (sel) => {
  const el = document.querySelector(sel);
  if (!el) return null;
  const text = el.textContent.trim();
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : null;
};
const all = (sel) => Array.from(document.querySelectorAll(sel));
const result = document.getElementById('form-result');
const fieldErrors = {};
for (const el of all('.field-error[data-field]')) {
  fieldErrors[el.dataset.field] = el.textContent.trim();
}
return {
  log_ids: all('#log li.log-entry[data-kind="event"]').map((li) => li.getAttribute('data-id')),
  log_errors: all('#log li.log-entry[data-kind="error"]').map((li) => li.textContent.trim()),
  rows: all('#event-log li[data-id]').map((li) => li.getAttribute('data-id')),
  requests: num('#count-requests'),
  empty: num('#count-empty'),
  events: num('#count-events'),
  bytes: num('#count-bytes'),
  frames: num('#count-frames'),
  p50: num('#count-p50'),
  p95: num('#count-p95'),
  marks: all('.live-timeline .mark-req').length,
  raw: document.getElementById('wire-raw')?.textContent ?? null,
  pattern_status: document.getElementById('pattern-status')?.textContent.trim() ?? null,
  scripts: all('script[src*="api/channels"]').length,
  form_result: result ? result.textContent.trim() : null,
  field_errors: fieldErrors,
};
"#;

/// The text of every `#log` entry of the current window, top to bottom, without the latency
/// (`+12 ms`) after an event.
pub async fn log_texts(client: &Client) -> TestResult<Vec<String>> {
    let js = "return Array.from(document.querySelectorAll('#log li.log-entry'), (li) => \
              Array.from(li.childNodes).filter((n) => !n.classList?.contains('latency')) \
                .map((n) => n.textContent).join('').trim());";
    let value = client.execute(js, vec![]).await?;
    Ok(serde_json::from_value(value)?)
}

/// Reads the demo widgets of `client`'s current window once (for [`wait_for`]).
pub async fn demo_of(client: &Client) -> TestResult<Demo> {
    demo(client).await
}

async fn demo(client: &Client) -> TestResult<Demo> {
    let value = client.execute(DEMO_JS, vec![]).await?;
    Ok(serde_json::from_value(value)?)
}

/// The app running on a free port of 127.0.0.1 with the ticker off.
pub struct App {
    /// The channel [`App::publish`] publishes on: [`CHANNEL`].
    pub channel: String,
    pub port: u16,
    pub hub: Hub,
    shutdown: Shutdown,
    server: JoinHandle<Result<(), String>>,
}

impl App {
    /// Launches the real app on the current runtime and waits for liftoff.
    pub async fn launch() -> App {
        App::launch_with(|figment| figment).await
    }

    /// [`App::launch`] with the configuration changed by `configure` after the test defaults,
    /// e.g. `|f| f.merge(("push.iframe_budget", 4096))`.
    pub async fn launch_with(configure: impl FnOnce(Figment) -> Figment) -> App {
        let figment = crate::common::open_access(rocket::Config::figment())
            .merge(("address", "127.0.0.1"))
            .merge(("port", 0))
            .merge(("ticker.enabled", false))
            .merge((
                "template_dir",
                concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            ))
            .merge(("log_level", "critical"))
            .merge(("shutdown.ctrlc", false))
            .merge(("shutdown.grace", 1))
            .merge(("shutdown.mercy", 1));
        let figment = configure(figment);
        let (tx, rx) = oneshot::channel();
        let rocket = reverse_ajax::rocket_from(figment).attach(AdHoc::on_liftoff(
            "Report the port to the test",
            move |rocket| {
                Box::pin(async move {
                    let hub = rocket.state::<Hub>().cloned();
                    // The test may already have given up; nothing to tell it then.
                    let _ignored = tx.send((rocket.config().port, hub, rocket.shutdown()));
                })
            },
        ));
        let server = tokio::spawn(async move {
            match rocket.launch().await {
                Ok(_) => Ok(()),
                // Formatting the error marks it handled, so Rocket does not panic on drop.
                Err(e) => Err(e.to_string()),
            }
        });
        match tokio::time::timeout(WAIT, rx).await {
            Ok(Ok((port, Some(hub), shutdown))) => App {
                channel: CHANNEL.to_owned(),
                port,
                hub,
                shutdown,
                server,
            },
            Ok(Ok((_, None, _))) => panic!("the app manages no Hub"),
            Ok(Err(_)) => match server.await {
                Ok(Err(e)) => panic!("the app failed to launch: {e}"),
                other => panic!("the app stopped before liftoff: {other:?}"),
            },
            Err(_) => panic!("the app did not lift off within {WAIT:?}"),
        }
    }

    /// The absolute URL of `path` on this app.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Publishes string `data` on the test channel and returns the new event's id.
    pub async fn publish(&self, data: &str) -> String {
        self.publish_on(&self.channel, data).await
    }

    /// Publishes string `data` on `channel` and returns the new event's id.
    pub async fn publish_on(&self, channel: &str, data: &str) -> String {
        let channel = Channel::parse(channel).expect("a valid channel name");
        let event = self
            .hub
            .publish(&channel, Payload::text(data))
            .await
            .expect("the memory hub accepts a publish");
        event.id.to_string()
    }

    /// The ids of the events on the test channel the hub still holds, oldest first.
    pub async fn channel_ids(&self) -> Vec<String> {
        let channel = Channel::parse(&self.channel).expect("a valid channel name");
        let batch = self
            .hub
            .recent(&channel, 1000)
            .await
            .expect("recent never fails in memory");
        batch.events.iter().map(|e| e.id.to_string()).collect()
    }

    /// Asks the server to stop and waits (bounded) until it has.
    pub async fn stop(self) {
        self.shutdown.notify();
        match tokio::time::timeout(Duration::from_secs(10), self.server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => eprintln!("the app ended with an error: {e}"),
            Ok(Err(e)) => eprintln!("the app task failed: {e}"),
            Err(_) => eprintln!("the app did not stop within 10 s"),
        }
    }
}

/// Where Chromium and chromedriver live.
#[derive(Clone)]
pub struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

/// Finds Chromium and chromedriver. When either is missing it prints a notice and returns
/// `None`, or panics if `CI` is set, because CI must really run the browser tests.
pub fn tools(test: &str) -> Option<Tools> {
    let chromium = find_program(&["chromium", "chromium-browser"]);
    let chromedriver = find_program(&["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Some(Tools {
            chromium,
            chromedriver,
        }),
        _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "browser test {test}: chromium/chromedriver not installed, and CI is set \
             (install Debian's `chromium` and `chromium-driver`)"
        ),
        _ => {
            eprintln!("SKIPPED browser test {test}: chromium/chromedriver not installed");
            None
        }
    }
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]);
    dirs.flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A chromedriver child, a fresh profile directory and the WebDriver session on them.
struct Browser {
    client: Client,
    driver: Driver,
    profile: Profile,
}

impl Browser {
    async fn start(tools: &Tools) -> TestResult<Browser> {
        let profile = Profile::new()?;
        let port = free_port()?;
        let driver = Driver::spawn(&tools.chromedriver, port)?;
        wait_until_listening(port, DRIVER_START).await?;
        let mut caps = serde_json::Map::from_iter([console::logging_capability()]);
        caps.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": tools.chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--user-data-dir={}", profile.0.display()),
                ],
            }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await?;
        Ok(Browser {
            client,
            driver,
            profile,
        })
    }

    /// Ends the WebDriver session (which quits Chromium), then chromedriver, then the profile.
    async fn close(self) {
        let Browser {
            client,
            driver,
            profile,
        } = self;
        match tokio::time::timeout(Duration::from_secs(10), client.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("closing the browser session failed: {e}"),
            Err(_) => eprintln!("closing the browser session took over 10 s"),
        }
        drop(driver);
        drop(profile);
    }
}

/// Kills and reaps chromedriver when dropped, also when a test panics.
struct Driver(Child);

impl Driver {
    fn spawn(program: &Path, port: u16) -> std::io::Result<Driver> {
        Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(Driver)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // It may have exited already; either way it is gone after `wait`.
        let _ignored = self.0.kill();
        let _ignored = self.0.wait();
    }
}

/// A fresh Chromium profile directory, removed when dropped.
struct Profile(PathBuf);

impl Profile {
    fn new() -> std::io::Result<Profile> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "reverse-ajax-browser-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Profile(dir))
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        // A leftover temp directory is harmless; do not fail a test over it.
        let _ignored = std::fs::remove_dir_all(&self.0);
    }
}

/// A port that was free a moment ago: bind port 0, note the port, release it.
fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Retries connecting to `port` every 50 ms until it accepts or `limit` passes.
async fn wait_until_listening(port: u16, limit: Duration) -> TestResult {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + limit;
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(
                    format!("chromedriver did not listen on {addr} within {limit:?}: {e}").into(),
                );
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// The shared flow of the interval-polling pages (`/polling`, `/jsonp-polling`): five events
/// published after the first answer show up once each, in order, and the counters move.
///
/// Returns the largest number of JSONP `<script>` elements seen in the page at one time.
pub async fn polling_page_shows_published_events(t: &Ctx, path: &str) -> TestResult<usize> {
    let most_scripts = std::cell::Cell::new(0);
    let track = |d: &Demo| most_scripts.set(most_scripts.get().max(d.scripts));

    t.open(&format!("{path}?interval=0.2")).await?;
    // An empty answer means the page holds a cursor, so nothing published now is missed.
    let first = t
        .wait_demo("a first answer with no event (#count-empty >= 1)", |d| {
            track(d);
            d.empty >= Some(1.0)
        })
        .await?;
    assert!(
        first.ids().is_empty(),
        "no event was published yet: {first:#?}"
    );

    let mut published = Vec::new();
    for n in 1..=5 {
        published.push(t.app.publish(&format!("e{n}")).await);
    }
    let arrived = t
        .wait_demo("5 event entries in #log", |d| {
            track(d);
            d.log_ids.len() >= 5
        })
        .await?;
    // One more empty answer after the events: a duplicate would have shown up by then.
    let settled = t
        .wait_demo(
            "one more answer with no event after the events arrived",
            |d| {
                track(d);
                d.empty > arrived.empty
            },
        )
        .await?;

    assert_eq!(
        settled.ids(),
        published,
        "each event once, in order: {settled:#?}"
    );
    assert_eq!(settled.events, Some(5.0), "#count-events: {settled:#?}");
    assert!(
        settled.requests > Some(1.0),
        "#count-requests: {settled:#?}"
    );
    assert!(settled.bytes > Some(0.0), "#count-bytes: {settled:#?}");
    assert!(settled.empty >= Some(1.0), "#count-empty: {settled:#?}");
    assert!(
        settled.p50.is_some() && settled.p95 >= settled.p50,
        "latency percentiles, p95 at least p50: {settled:#?}"
    );
    assert!(
        settled.log_errors.is_empty(),
        "no error entries: {settled:#?}"
    );
    Ok(most_scripts.get().max(settled.scripts))
}

/// What the push pages log once the server has accepted a stream or socket.
pub const CONNECTED: &str = "[client] connected";
/// What the long-polling pages log as they send each request.
const LONG_POLL_SENT: &str = "[client] waiting for events...";

/// Publishes `"{prefix} 1"` … `"{prefix} {count}"` on the test channel and returns their ids in order.
pub async fn publish_many(app: &App, prefix: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 1..=count {
        ids.push(app.publish(&format!("{prefix} {n}")).await);
    }
    ids
}

/// Publishes one last event and waits until it is the newest entry of `#log`. Every push
/// transport delivers in order, so a lost event or a duplicate would show before it.
pub async fn settle(t: &Ctx, published: &mut Vec<String>) -> TestResult<Demo> {
    let last = t.app.publish("last").await;
    published.push(last.clone());
    t.wait_demo("the last event published at the end of #log", |d| {
        d.log_ids.last() == Some(&Some(last.clone()))
    })
    .await
}

/// Opens a long-polling page (run with a short `push.long_poll_max_ms`) and waits until a held
/// request has come back empty at the cap, checking that no event arrived meanwhile.
pub async fn long_poll_page_answers_empty_at_the_cap(t: &Ctx, path: &str) -> TestResult<Demo> {
    t.open(path).await?;
    let idle = t
        .wait_demo(
            "an empty answer at the 1.5 s cap (#count-empty >= 1)",
            |d| d.empty >= Some(1.0) && d.requests >= Some(2.0),
        )
        .await?;
    assert!(idle.ids().is_empty(), "nothing was published: {idle:#?}");
    Ok(idle)
}

/// The shared flow of the push pages (streams, long polls, WebSocket): events published
/// while the page is connected show up once each, in order; then `#reconnect` drops the
/// connection, and the events published during and after the new connection's opening show
/// up too, none lost and none twice. Returns the texts of the log.
pub async fn push_page_resumes_after_reconnect(t: &Ctx, path: &str) -> TestResult<Vec<String>> {
    // Streams log "connected" once the server has accepted them, so the events published
    // next travel live down the open connection (not as a replay when it opens).
    let connected = |log: &Vec<String>| log.iter().filter(|l| *l == CONNECTED).count();
    let long_poll = |log: &Vec<String>| log.iter().any(|l| l == LONG_POLL_SENT);
    t.open(path).await?;
    t.wait_log("the stream connected, or a long poll sent", |log| {
        connected(log) >= 1 || long_poll(log)
    })
    .await?;

    let mut published = publish_many(&t.app, "before", 5).await;
    let before = t
        .wait_demo("5 event entries in #log", |d| d.log_ids.len() >= 5)
        .await?;

    t.click("#reconnect").await?;
    published.extend(publish_many(&t.app, "during", 5).await);
    t.wait_demo("a new connection (#count-requests grew)", |d| {
        d.requests > before.requests
    })
    .await?;
    t.wait_log("the new stream connected, or a long poll sent", |log| {
        connected(log) >= 2 || long_poll(log)
    })
    .await?;
    published.extend(publish_many(&t.app, "after", 5).await);

    let settled = settle(t, &mut published).await?;
    assert_eq!(
        settled.ids(),
        published,
        "each event once, in order, across the reconnection: {settled:#?}"
    );
    assert_eq!(
        settled.events,
        Some(published.len() as f64),
        "#count-events: {settled:#?}"
    );
    assert!(settled.bytes > Some(0.0), "#count-bytes: {settled:#?}");
    assert!(
        settled.log_errors.is_empty(),
        "a reconnection on request is not an error: {settled:#?}"
    );
    t.log_texts().await
}
