//! Redis itself stopped and started again under a subscriber: a private `redis-server` (with
//! an append-only file, so the restart keeps the data) on a spare port, killed mid-test.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::common::within;
use crate::harness::{Instance, WAIT, ids_on, seq};
use crate::support::{ping, unique_prefix};

/// A `redis-server` child process of this test.
struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one on a spare port, or returns `None` (after a notice) when Debian's
    /// `redis-server` is not installed; with `CI` set that fails the test instead.
    async fn start() -> Option<PrivateRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a spare port")
            .port();
        let dir = std::env::temp_dir().join(unique_prefix("redis-restart"));
        std::fs::create_dir_all(&dir).expect("a data directory");
        let mut redis = PrivateRedis {
            port,
            dir,
            child: None,
        };
        if !redis.spawn() {
            if std::env::var("CI").is_ok_and(|ci| !ci.is_empty()) {
                panic!("redis-server is not installed and CI is set");
            }
            eprintln!("SKIPPED redis::restart: redis-server is not installed");
            return None;
        }
        redis.ready().await;
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        self.child = child.ok();
        self.child.is_some()
    }

    /// Waits until the server answers.
    async fn ready(&self) {
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

    /// Kills the server the hard way, as a crash would.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("redis-server killed");
            child.wait().expect("redis-server reaped");
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        // Best effort: a leftover temporary directory does no harm.
        let _removed = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_and_restarted_under_a_subscriber_loses_nothing() {
    // Arrange: two instances on a private Redis, a subscriber on A that has one event.
    let Some(mut server) = PrivateRedis::start().await else {
        return;
    };
    let prefix = unique_prefix("restart");
    let a = Instance::start_with(&prefix, &server.url()).await;
    let b = Instance::start_with(&prefix, &server.url()).await;
    let head = a.head("room").await;
    let mut stream = a.sse("room", Some(&head)).await;
    let before = b.publish("room", json!("before")).await;
    assert_eq!(stream.ids(1).await, std::slice::from_ref(&before));

    // Act: Redis dies; a publish is refused; Redis comes back from its append-only file.
    server.kill();
    let (refused, body) = b.try_publish("room", &json!("while down")).await;
    assert!(server.spawn(), "redis-server starts again");
    server.ready().await;
    let after = within(WAIT, async {
        loop {
            let (code, json) = b.try_publish("room", &json!("after")).await;
            if code == 201 {
                return json["id"].as_str().expect("an id").to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let on_a = a.publish("room", json!("on A")).await;
    let received = stream.ids(2).await;

    // Assert: the same epoch goes on, the subscriber stayed and got everything once.
    assert_eq!(refused, 503, "{body}");
    assert_eq!(received, [after.clone(), on_a.clone()]);
    assert_eq!(
        [before, after, on_a],
        ids_on(&head, seq(&head) + 1, seq(&head) + 3).as_slice()
    );
    a.stop().await;
    b.stop().await;
}
