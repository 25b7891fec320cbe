//! A `redis-server` of the test's own on a spare port, for what must not happen to the shared
//! one: killing it, restarting it from its files, flushing it, stopping it with SIGSTOP.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};

use crate::common::within;
use crate::harness::WAIT;
use crate::support::{ping, unique_prefix};

/// How the server keeps its data across a restart.
#[derive(Clone, Copy)]
pub enum Persistence {
    /// An append-only file written before every answer: a restart loses nothing.
    AppendOnly,
    /// Only what a `SAVE` wrote: a restart goes back to the last `SAVE`.
    Snapshot,
}

/// A `redis-server` child process of this test.
pub struct PrivateRedis {
    pub port: u16,
    dir: PathBuf,
    persistence: Persistence,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one on a spare port, or returns `None` (after a notice) when Debian's
    /// `redis-server` is not installed; with `CI` set that fails the test instead.
    pub async fn start(test: &str, persistence: Persistence) -> Option<PrivateRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a spare port")
            .port();
        let dir = std::env::temp_dir().join(unique_prefix("redis-private"));
        std::fs::create_dir_all(&dir).expect("a data directory");
        let mut redis = PrivateRedis {
            port,
            dir,
            persistence,
            child: None,
        };
        if !redis.spawn() {
            if std::env::var("CI").is_ok_and(|ci| !ci.is_empty()) {
                panic!("redis-server is not installed and CI is set");
            }
            eprintln!("SKIPPED redis::{test}: redis-server is not installed");
            return None;
        }
        redis.ready().await;
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server process (again, after [`PrivateRedis::kill`]) from its files.
    pub fn spawn(&mut self) -> bool {
        let persistence: &[&str] = match self.persistence {
            Persistence::AppendOnly => &[
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            Persistence::Snapshot => &[
                "--appendonly",
                "no",
                "--save",
                "",
                "--dbfilename",
                "dump.rdb",
            ],
        };
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(persistence)
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        self.child = child.ok();
        self.child.is_some()
    }

    /// Waits until the server answers.
    pub async fn ready(&self) {
        let url = self.url();
        within(WAIT, async {
            loop {
                if ping(&url, Duration::from_secs(1)).await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
    }

    /// Kills the server and starts it again from its files, as a crash and a restart would.
    pub async fn restart(&mut self) {
        self.kill();
        assert!(self.spawn(), "redis-server starts again");
        self.ready().await;
    }

    /// Kills the server the hard way, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("redis-server killed");
            child.wait().expect("redis-server reaped");
        }
    }

    /// Runs one command on a side connection.
    pub fn command(&self, name: &str) {
        let client = redis::Client::open(self.url().as_str()).expect("a Redis URL");
        let mut connection = client
            .get_connection_with_timeout(Duration::from_secs(2))
            .expect("a side connection");
        redis::cmd(name).exec(&mut connection).expect(name);
    }

    /// Freezes the server (SIGSTOP) or lets it go on (SIGCONT), as a stall would.
    pub fn signal(&self, signal: Signal) {
        let child = self.child.as_ref().expect("a running server");
        let pid = Pid::from_raw(child.id() as i32).expect("a pid");
        kill_process(pid, signal).expect("signalled");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        self.kill();
        // Best effort: a leftover temporary directory does no harm.
        let _removed = std::fs::remove_dir_all(&self.dir);
    }
}
