//! The server under test: by default a child process of the same binary on a free loopback
//! port (so its CPU time is its own), configured for the experiment's load; or, with `--url`,
//! a server someone else runs, reached only where the URL says.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};
use tokio::process::{Child, ChildStdin, Command};

use crate::load::conn::{Link, Meter, request};
use crate::load::frame::Batch;
use crate::load::procfs;

/// How long the child may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the child may stay busy after its first answer before the experiment gives up
/// waiting for it to settle (a debug build highlights its code panels for a few seconds).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the child's CPU time is read while it settles.
const SETTLE_SAMPLE: Duration = Duration::from_millis(250);
/// CPU time the child may use in one sample and still count as idle: one or two clock
/// ticks of the kernel's accounting.
const IDLE_CPU_MS: u64 = 20;

pub struct Target {
    pub addr: SocketAddr,
    /// The `Host` header: `127.0.0.1:<port>`, or the URL's authority.
    pub host: String,
    pub token: Option<String>,
    child: Option<Child>,
    /// The write end of the child's standard input: when this process ends, however it ends,
    /// the kernel closes it and the child (`serve --with-parent`) exits.
    _lifeline: Option<ChildStdin>,
}

/// The environment that opens every channel to anonymous publishers and lifts the
/// per-address limits, for a server that load tools (this experiment, the fan-out
/// benchmark, the tests) drive from one address with thousands of events and connections.
pub const OPEN_ACCESS: [(&str, &str); 2] = [
    ("ROCKET_AUTH", r#"{public_publish=["*"]}"#),
    (
        "ROCKET_CLIENTS",
        "{publish_per_ip=1000000, held_per_ip=100000, held_max=100000}",
    ),
];

impl Target {
    /// Starts `binary serve` on 127.0.0.1 with the ticker off and the limits lifted: the
    /// experiment publishes on channels of its own and holds every client from one address.
    pub async fn spawn(binary: &Path) -> Result<Target, String> {
        let port = free_port()?;
        let mut child = Command::new(binary)
            .args(["serve", "--with-parent"])
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", "off")
            .env("ROCKET_TICKER", "{enabled=false}")
            .envs(OPEN_ACCESS)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let lifeline = child.stdin.take();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let target = Target {
            addr,
            host: addr.to_string(),
            token: None,
            child: Some(child),
            _lifeline: lifeline,
        };
        target.wait_ready().await?;
        target.wait_idle().await?;
        Ok(target)
    }

    /// Waits until the child has finished what it does after it starts to accept (a fresh
    /// server highlights every code panel on a thread of its own, some 0.7 s of CPU in a
    /// release build), so that this work is not charged to the first technique measured.
    /// Idle means one sample with at most [`IDLE_CPU_MS`] of CPU time.
    async fn wait_idle(&self) -> Result<(), String> {
        let Some(mut before) = self.cpu_ms() else {
            return Ok(());
        };
        let started = Instant::now();
        while started.elapsed() < SETTLE_TIMEOUT {
            tokio::time::sleep(SETTLE_SAMPLE).await;
            let Some(now) = self.cpu_ms() else {
                return Ok(());
            };
            if now.saturating_sub(before) <= IDLE_CPU_MS {
                return Ok(());
            }
            before = now;
        }
        Err(format!(
            "the server at {} was still busy {SETTLE_TIMEOUT:?} after it started",
            self.addr
        ))
    }

    /// A server at `url` (`http://host[:port]`), with a token for publishing if given.
    pub async fn remote(url: &str, token: Option<String>) -> Result<Target, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("--url {url:?}: only http:// URLs are supported"))?;
        let host = rest.split('/').next().unwrap_or_default().to_owned();
        let with_port = if host.contains(':') && !host.ends_with(']') {
            host.clone()
        } else {
            format!("{host}:80")
        };
        let addr = tokio::net::lookup_host(&with_port)
            .await
            .map_err(|e| format!("--url {url:?}: {e}"))?
            .next()
            .ok_or_else(|| format!("--url {url:?}: the host has no address"))?;
        let target = Target {
            addr,
            host,
            token,
            child: None,
            _lifeline: None,
        };
        target.wait_ready().await?;
        Ok(target)
    }

    /// The server's CPU time so far in ms; `None` for a server that is not our child.
    pub fn cpu_ms(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id()?;
        procfs::cpu_ms(pid).ok()
    }

    /// The head of `channel`: the cursor a page about it would start from.
    pub async fn head(&self, channel: &str) -> Result<String, String> {
        let mut link = Link::new(self.addr, &Arc::new(Meter::default()));
        let target = format!("/api/channels/{channel}/events");
        let (head, body) = link
            .send(&request("GET", &target, &self.host, &[], ""))
            .await?;
        let body = link.body(&head, body).await?;
        if head.status != 200 {
            return Err(format!("GET {target} answered {}", head.status));
        }
        let batch = Batch::parse(&body).map_err(|e| format!("GET {target}: {e}"))?;
        batch
            .next
            .ok_or_else(|| format!("GET {target} gave no cursor"))
    }

    async fn wait_ready(&self) -> Result<(), String> {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < READY_TIMEOUT {
            match tokio::time::timeout(
                Duration::from_secs(2),
                self.head(crate::wire::visitor::SHARED),
            )
            .await
            {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) => last = e,
                Err(_) => last = "no answer within 2 s".to_owned(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "the server at {} did not answer: {last}",
            self.addr
        ))
    }

    /// Stops the child (SIGTERM, then SIGKILL after 10 s), the one process this started.
    pub async fn stop(mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id().and_then(|id| Pid::from_raw(id as i32)) {
            // If the signal fails the child has already gone; the wait below reaps it.
            let _gone = kill_process(pid, Signal::TERM);
        }
        if tokio::time::timeout(STOP_TIMEOUT, child.wait())
            .await
            .is_err()
        {
            // Killing can only fail if it exited meanwhile.
            let _exited = child.kill().await;
        }
    }
}

/// A port that was free a moment ago (bound to port 0, then released).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}
