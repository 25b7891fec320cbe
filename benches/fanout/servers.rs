//! Starting and stopping the servers under test, one fresh process per run: ours (the
//! `reverse-ajax` binary) and Nchan (nginx with the Nchan module). Only processes started
//! here are ever signalled.

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use reverse_ajax::load::conn::{Link, Meter, request};

use crate::nchan;

/// How long a server may take to answer `GET /` after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to exit after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Ours,
    Nchan,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Ours => "ours",
            Kind::Nchan => "Nchan",
        })
    }
}

/// A running server that this process started.
pub struct Server {
    pub kind: Kind,
    pub addr: SocketAddr,
    child: Option<Child>,
    dir: PathBuf,
    log: PathBuf,
}

impl Server {
    /// Starts our server from `bin` with the run's settings plus `extra` variables.
    pub async fn start_ours(bin: &Path, extra: &[(String, String)]) -> Result<Server, String> {
        let (dir, port) = (fresh_dir()?, free_port()?);
        let log = dir.join("server.log");
        let manifest = env!("CARGO_MANIFEST_DIR");
        let mut command = Command::new(bin);
        command
            .current_dir(manifest)
            .env("ROCKET_CONFIG", format!("{manifest}/Rocket.toml"))
            .env("ROCKET_PROFILE", "release")
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", "off")
            .env("ROCKET_TICKER", "{enabled=false}")
            // The benchmark publishes on channels of its own, thousands of events a second,
            // and holds up to 10,000 subscribers, all from one loopback address.
            .envs(reverse_ajax::experiment::OPEN_ACCESS);
        for (key, value) in extra {
            command.env(key, value);
        }
        let what = format!("our server ({})", bin.display());
        Server::spawn(Kind::Ours, command, &what, dir, log, port).await
    }

    /// Starts nginx with Nchan, configured in a fresh directory.
    pub async fn start_nchan() -> Result<Server, String> {
        let (dir, port) = (fresh_dir()?, free_port()?);
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, nchan::config(&dir, port))
            .map_err(|e| format!("could not write {}: {e}", conf.display()))?;
        let mut command = Command::new(nchan::NGINX);
        command.arg("-p").arg(&dir).arg("-c").arg(&conf);
        let log = dir.join("error.log");
        Server::spawn(Kind::Nchan, command, "nginx with Nchan", dir, log, port).await
    }

    async fn spawn(
        kind: Kind,
        mut command: Command,
        what: &str,
        dir: PathBuf,
        log: PathBuf,
        port: u16,
    ) -> Result<Server, String> {
        let output = dir.join("output.log");
        let file = std::fs::File::create(&output)
            .map_err(|e| format!("could not create {}: {e}", output.display()))?;
        let copy = file
            .try_clone()
            .map_err(|e| format!("could not reuse a file: {e}"))?;
        command.stdin(Stdio::null()).stdout(file).stderr(copy);
        let child = command
            .spawn()
            .map_err(|e| format!("could not start {what}: {e}"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = Server {
            kind,
            addr,
            child: Some(child),
            dir,
            log,
        };
        if let Err(why) = server.wait_ready().await {
            let tail = server.log_tail();
            server.stop().await?;
            return Err(format!("{what} did not start: {why}{tail}"));
        }
        Ok(server)
    }

    /// The process id, as /proc names it.
    pub fn pid(&self) -> String {
        self.child.as_ref().map_or(0, Child::id).to_string()
    }

    /// Polls `GET /` until it answers 200.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < READY_TIMEOUT {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("it exited at once ({status})"));
            }
            let probe = tokio::time::timeout(Duration::from_secs(2), get(self.addr, "/")).await;
            match probe {
                Ok(Ok((200, _))) => return Ok(()),
                Ok(Ok((status, _))) => last = format!("GET / answered {status}"),
                Ok(Err(e)) => last = e,
                Err(_) => last = "GET / took more than 2 s".to_owned(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "not ready after {} s: {last}",
            READY_TIMEOUT.as_secs()
        ))
    }

    /// A counter of our server's `/metrics` (open on loopback), e.g.
    /// `reverse_ajax_backend_messages_total`; 0 when the page does not show it.
    pub async fn counter(&self, name: &str) -> Result<u64, String> {
        let scrape = tokio::time::timeout(Duration::from_secs(5), get(self.addr, "/metrics"));
        let (status, body) = scrape
            .await
            .map_err(|_| "GET /metrics took more than 5 s".to_owned())??;
        if status != 200 {
            return Err(format!("GET /metrics answered {status}"));
        }
        let text = String::from_utf8_lossy(&body);
        let value = text
            .lines()
            .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .find_map(|value| value.trim().parse::<f64>().ok());
        Ok(value.unwrap_or(0.0) as u64)
    }

    /// The last lines the server wrote, to explain a failure.
    fn log_tail(&self) -> String {
        let mut text = String::new();
        for path in [&self.log, &self.dir.join("output.log")] {
            if let Ok(log) = std::fs::read_to_string(path) {
                let lines: Vec<&str> = log.lines().collect();
                for line in &lines[lines.len().saturating_sub(10)..] {
                    text += &format!("\n      {line}");
                }
            }
        }
        text
    }

    /// SIGTERM, then SIGKILL if it has not exited after 10 s; then removes its directory.
    pub async fn stop(mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = Pid::from_child(&child);
        if let Err(e) = kill_process(pid, Signal::TERM) {
            eprintln!(
                "    could not send SIGTERM to {} (pid {pid:?}): {e}",
                self.kind
            );
        }
        let started = Instant::now();
        let result = loop {
            match child.try_wait() {
                Ok(Some(_)) => break Ok(()),
                Ok(None) if started.elapsed() < STOP_TIMEOUT => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                waited => {
                    kill_and_reap(&mut child);
                    break Err(match waited {
                        Err(e) => format!("could not wait for {}: {e}", self.kind),
                        _ => format!("{} did not exit 10 s after SIGTERM: killed", self.kind),
                    });
                }
            }
        };
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("    could not remove {}: {e}", self.dir.display());
        }
        result
    }
}

impl Drop for Server {
    /// A server still running here was not stopped (an early return): kill it.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
        }
    }
}

/// SIGKILL to a child of ours, then waits for it.
fn kill_and_reap(child: &mut Child) {
    if let Err(e) = child.kill() {
        eprintln!("    could not kill pid {}: {e}", child.id());
    }
    if let Err(e) = child.wait() {
        eprintln!("    could not wait for pid {}: {e}", child.id());
    }
}

/// The status and body of `GET path`.
async fn get(addr: SocketAddr, path: &str) -> Result<(u16, Vec<u8>), String> {
    let mut link = Link::new(addr, &Arc::new(Meter::default()));
    let host = addr.to_string();
    let close = [("Connection", "close")];
    let (head, body) = link.send(&request("GET", path, &host, &close, "")).await?;
    let body = link.body(&head, body).await?;
    Ok((head.status, body))
}

/// A port that was free a moment ago (bound to port 0, then released).
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("could not find a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("could not find a free port: {e}"))
}

/// A new empty directory under the system's temporary directory.
fn fresh_dir() -> Result<PathBuf, String> {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("fanout-{}-{n}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("could not clear {dir:?}: {e}"))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("could not create {dir:?}: {e}"))?;
    Ok(dir)
}
