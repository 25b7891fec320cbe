//! The browser: Debian's Chromium under chromedriver, or Firefox ESR under geckodriver, each
//! headless, with a fresh profile, on a WebDriver server of its own that dies with the test.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Map, Value, json};

use super::TestResult;
use super::dom::POLL;
use crate::console;

/// The longest a WebDriver server may take to accept connections.
const DRIVER_START: Duration = Duration::from_secs(10);

/// The browser a test drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Debian's `chromium` through `chromedriver` (package `chromium-driver`).
    Chromium,
    /// Debian's `firefox-esr` through `geckodriver` (`cargo install geckodriver`).
    Firefox,
}

impl Engine {
    /// The engine of `browser_test` and `browser_test_with`: Chromium, or Firefox when the
    /// environment says `BROWSER=firefox`.
    pub fn from_env() -> Engine {
        match std::env::var("BROWSER").as_deref() {
            Ok("firefox") => Engine::Firefox,
            _ => Engine::Chromium,
        }
    }

    /// The browser's program names, its WebDriver server's, and how to install both.
    fn programs(self) -> (&'static [&'static str], &'static str, &'static str) {
        match self {
            Engine::Chromium => (
                &["chromium", "chromium-browser"],
                "chromedriver",
                "install Debian's `chromium` and `chromium-driver`",
            ),
            Engine::Firefox => (
                &["firefox-esr", "firefox"],
                "geckodriver",
                "install Debian's `firefox-esr` and `cargo install geckodriver`",
            ),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Chromium => "Chromium",
            Engine::Firefox => "Firefox",
        })
    }
}

/// Where a browser and its WebDriver server live.
#[derive(Clone)]
pub struct Tools {
    pub engine: Engine,
    browser: PathBuf,
    driver: PathBuf,
}

/// Finds the browser of `engine` and its WebDriver server. When either is missing it prints
/// a notice and returns `None`, or panics if `CI` is set, because CI must really run the
/// browser tests.
pub fn tools(engine: Engine, test: &str) -> Option<Tools> {
    let (browsers, driver, install) = engine.programs();
    match (find_program(browsers), find_program(&[driver])) {
        (Some(browser), Some(driver)) => Some(Tools {
            engine,
            browser,
            driver,
        }),
        _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "browser test {test}: {engine} or {driver} not installed, and CI is set ({install})"
        ),
        _ => {
            eprintln!("SKIPPED browser test {test}: {engine} or {driver} not installed");
            None
        }
    }
}

/// The first of `names` on `PATH`, in `/usr/bin` or in Cargo's `bin` (where `cargo install`
/// puts geckodriver).
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let dirs = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .chain(cargo_home.map(|home| home.join("bin")));
    dirs.flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A WebDriver server child, a fresh profile directory and the session on them.
pub(super) struct Browser {
    pub(super) client: Client,
    driver: Driver,
    profile: Profile,
}

impl Browser {
    pub(super) async fn start(tools: &Tools) -> TestResult<Browser> {
        let profile = Profile::new()?;
        let port = free_port()?;
        let driver = Driver::spawn(tools, port)?;
        wait_until_listening(port, DRIVER_START).await?;
        let caps = match tools.engine {
            Engine::Chromium => chromium_capabilities(&tools.browser, &profile.0),
            Engine::Firefox => firefox_capabilities(&tools.browser, &profile.0),
        };
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

    /// Ends the WebDriver session (which quits the browser), then the server, then the
    /// profile.
    pub(super) async fn close(self) {
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

/// Headless Chromium on `profile`, keeping its console for the policy check.
fn chromium_capabilities(binary: &Path, profile: &Path) -> Map<String, Value> {
    let mut caps = Map::from_iter([console::logging_capability()]);
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": binary,
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
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    caps
}

/// Headless Firefox on `profile`, without the background traffic of a first start.
fn firefox_capabilities(binary: &Path, profile: &Path) -> Map<String, Value> {
    let options = json!({
        "binary": binary,
        "args": ["-headless", "-profile", profile],
        "prefs": {
            "app.update.disabledForTesting": true,
            "browser.shell.checkDefaultBrowser": false,
            "datareporting.policy.dataSubmissionEnabled": false,
            "network.captive-portal-service.enabled": false,
            "network.connectivity-service.enabled": false,
        },
    });
    Map::from_iter([("moz:firefoxOptions".to_owned(), options)])
}

/// Kills and reaps the WebDriver server when dropped, also when a test panics.
struct Driver(Child);

impl Driver {
    fn spawn(tools: &Tools, port: u16) -> std::io::Result<Driver> {
        let mut command = Command::new(&tools.driver);
        match tools.engine {
            Engine::Chromium => command.arg(format!("--port={port}")),
            // Marionette and BiDi on ports of the system's choice, so that tests run side by side.
            Engine::Firefox => command
                .args(["--host", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .args(["--marionette-port", "0", "--websocket-port", "0"]),
        };
        command
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

/// A fresh browser profile directory, removed when dropped.
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
                return Err(format!(
                    "the WebDriver server did not listen on {addr} within {limit:?}: {e}"
                )
                .into());
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}
