//! The browser harness: the real app on a free port, a WebDriver server child, a headless
//! browser session, and waits that poll the DOM under a timeout. Its parts, by job: the app
//! ([`app`]), the browser ([`driver`]), reading the page ([`dom`]) and the flows several pages
//! share ([`scenarios`]); this module runs a test on them and names everything a test uses.
//!
//! A test is one call to [`browser_test`]. It skips (or fails under `CI`) when the browser is
//! missing, runs the body under an overall timeout, fails on any Content Security Policy
//! violation the browser logged meanwhile (Chromium only: Firefox does not hand its console
//! to WebDriver), and always closes the browser session, stops the WebDriver server and shuts
//! the app down before it reports the outcome. Chromium drives every test; Firefox drives the
//! tests declared with [`in_each_browser`], and all of them under `BROWSER=firefox` (where
//! those that read Chromium's console or use its DevTools protocol fail: geckodriver has
//! neither).

mod app;
mod dom;
mod driver;
mod scenarios;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use futures_util::FutureExt;
use rocket::figment::Figment;

pub use self::app::{App, CHANNEL};
use self::dom::demo;
pub use self::dom::{Demo, demo_of, log_texts, wait_for};
use self::driver::Browser;
pub use self::driver::{Engine, Tools, tools};
pub use self::scenarios::{
    long_poll_page_answers_empty_at_the_cap, polling_page_shows_published_events, publish_many,
    push_page_resumes_after_reconnect, settle,
};
use crate::console;

/// What a test body returns; `?` works on WebDriver errors and on failed waits.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The longest any single wait may take.
pub const WAIT: Duration = Duration::from_secs(15);
/// The longest a whole test body may take.
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// The longest the WebDriver server and the browser together may take to open a session.
const BROWSER_START: Duration = Duration::from_secs(30);

/// Declares each of the given scenarios (`async fn name(engine: Engine)`, in scope) as two
/// tests: `chromium::name` and `firefox::name`, each on a runtime of two threads.
macro_rules! in_each_browser {
    ($($scenario:ident),+ $(,)?) => {
        mod chromium {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::harness::Engine::Chromium).await;
                }
            )+
        }
        mod firefox {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::harness::Engine::Firefox).await;
                }
            )+
        }
    };
}
pub(crate) use in_each_browser;

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
/// Skips with a notice when the browser or its WebDriver server is missing, unless `CI` is
/// set.
pub async fn browser_test(name: &str, body: impl AsyncFnOnce(&Ctx) -> TestResult) {
    browser_test_in(Engine::from_env(), name, |figment| figment, body).await;
}

/// [`browser_test`] with the app's configuration changed by `configure` (see
/// [`App::launch_with`]), e.g. a small `push.iframe_budget` or a short `push.long_poll_max_ms`.
pub async fn browser_test_with(
    name: &str,
    configure: impl FnOnce(Figment) -> Figment,
    body: impl AsyncFnOnce(&Ctx) -> TestResult,
) {
    browser_test_in(Engine::from_env(), name, configure, body).await;
}

/// [`browser_test_with`] in the browser `engine`. The app is only launched once the browser
/// is known to exist.
pub async fn browser_test_in(
    engine: Engine,
    name: &str,
    configure: impl FnOnce(Figment) -> Figment,
    body: impl AsyncFnOnce(&Ctx) -> TestResult,
) {
    let name = &format!("{name} ({engine})");
    let Some(tools) = tools(engine, name) else {
        return;
    };
    let started = Instant::now();
    let app = App::launch_with(configure).await;
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
        tools,
        extra: tokio::sync::Mutex::new(Vec::new()),
    };
    let outcome =
        tokio::time::timeout(TEST_LIMIT, AssertUnwindSafe(body(&ctx)).catch_unwind()).await;
    let csp = csp_report(&ctx).await;
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
/// violations logged so far, or why the console could not be read. Only Chromium's console
/// can be read.
async fn csp_report(ctx: &Ctx) -> Option<String> {
    if ctx.tools.engine != Engine::Chromium {
        return None;
    }
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        console::csp_violations(&ctx.client),
    );
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
