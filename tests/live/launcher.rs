//! The application as the live suites use it: launched by the common launcher with the
//! ticker off and no shutdown grace, plus the raw HTTP and WebSocket addresses they talk to.

use std::time::Duration;

use reverse_ajax::hub::{Channel, Hub};
use rocket::figment::Figment;
use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::TcpStream;
use serde_json::Value;

use crate::common::launcher::{self, Launched, Server, config};
use crate::common::within;

/// A running application.
pub struct App {
    pub port: u16,
    pub hub: Hub,
    server: Server,
}

/// The application with the ticker off and the test's `change` applied to its configuration.
pub async fn launch_with(change: impl FnOnce(Figment) -> Figment) -> App {
    let figment = config()
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0));
    let Launched { port, hub, server } = launcher::launch(change(figment)).await;
    App { port, hub, server }
}

/// Sends `request` (which asks the server to close the connection) over a fresh connection
/// to `port` and returns the answer's status and body.
pub async fn exchange(port: u16, request: &str) -> (u16, String) {
    let talk = async {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        tcp.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        tcp.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = within(Duration::from_secs(5), talk)
        .await
        .expect("an answer");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    (status.expect("a status line"), body.to_owned())
}

/// The application with the test configuration and nothing changed.
pub async fn launch() -> App {
    launch_with(|figment| figment).await
}

impl App {
    /// `ws://…` for a path on this server.
    pub fn ws(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// This site's own origin, as a browser on one of its pages would send it.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Publishes `data` on `ch` straight through the hub and returns the event's id.
    pub async fn publish(&self, ch: &str, data: Value) -> String {
        let channel = Channel::parse(ch).expect("a channel name");
        let event = self
            .hub
            .publish(&channel, data.into())
            .await
            .expect("published");
        event.id.to_string()
    }

    /// A plain HTTP/1.1 GET over a fresh connection: the status and the body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        exchange(self.port, &request).await
    }

    /// Starts a graceful shutdown, as Ctrl-C would.
    pub fn notify_shutdown(&self) {
        self.server.notify();
    }

    /// Shuts the server down and waits until it has stopped.
    pub async fn stop(self) {
        let stopped = self.server.stop().await;
        assert!(stopped.is_ok(), "the server stops cleanly: {stopped:?}");
    }
}
