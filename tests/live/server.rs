//! The real binary as a child process, for what needs a process of its own: signals and exit.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rocket::tokio::io::{AsyncBufReadExt, BufReader};
use rocket::tokio::process::{Child, Command};
use rustix::process::{Pid, Signal, kill_process};
use serde_json::Value;

use crate::common::within;
use crate::launcher::exchange;

/// A running `reverse-ajax` process on 127.0.0.1 and the port it bound.
pub struct Server {
    pub port: u16,
    child: Child,
}

impl Server {
    /// Starts the binary with the ticker off, port 0 and `env` on top; returns once it says
    /// where it listens.
    pub async fn start(env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_reverse-ajax"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", "0")
            .env("ROCKET_LOG_LEVEL", "normal")
            .env("ROCKET_CLI_COLORS", "false")
            .env("ROCKET_TICKER", "{enabled=false}")
            // As `common::open_access` does for the in-process suites.
            .envs(reverse_ajax::experiment::OPEN_ACCESS)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("the server starts");
        let stdout = child.stdout.take().expect("its output");
        let mut lines = BufReader::new(stdout).lines();
        let port = within(Duration::from_secs(30), async {
            loop {
                let line = lines.next_line().await.expect("a line").expect("launched");
                if let Some((_, address)) = line.split_once("launched from http://") {
                    let port = address.trim().rsplit_once(':').map(|(_, p)| p.to_owned());
                    return port.and_then(|p| p.parse::<u16>().ok()).expect("a port");
                }
            }
        })
        .await;
        // Keep reading its output, so that the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server { port, child }
    }

    /// Publishes `data` on `ch` over HTTP and checks the answer is 201.
    pub async fn publish(&self, ch: &str, data: &Value) {
        let body = data.to_string();
        let request = format!(
            "POST /api/channels/{ch}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let (status, answer) = exchange(self.port, &request).await;
        assert_eq!(status, 201, "{answer}");
    }

    /// Sends SIGTERM and waits at most `limit` for the process to exit.
    pub async fn terminate(mut self, limit: Duration) -> ExitStatus {
        let pid = self
            .child
            .id()
            .and_then(|id| Pid::from_raw(id as i32))
            .expect("a pid");
        kill_process(pid, Signal::TERM).expect("SIGTERM sent");
        let sent = std::time::Instant::now();
        let status = within(limit, self.child.wait())
            .await
            .expect("an exit status");
        eprintln!("exited {:?} after SIGTERM", sent.elapsed());
        status
    }
}
