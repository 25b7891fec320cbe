//! A publish without an idempotency key whose answer is lost after Redis ran it: the cluster
//! client sends the command again on a new connection, and the event is stored once.
//!
//! The fault is real and exact: the channel's primary closes any connection whose output goes
//! past its small reply buffer, and the publish script's own live message (20 KB, on the
//! instance's connection, which subscribes to the channel's topic) goes before its answer.

use std::time::Duration;

use serde_json::json;

use crate::burst::history;
use crate::cluster::{node, owner_and_replica};
use crate::common::within;
use crate::harness::{Instance, WAIT, cluster_scope, request_on};
use crate::history_loss::ROOM;
use crate::support::{cluster_urls, redis_url};

/// The ids of the clients of the node at `url` that subscribe to a shard channel.
fn shard_subscribers(url: &str) -> Vec<String> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(&mut node(url))
        .expect("CLIENT LIST");
    list.lines()
        .filter(|line| !line.contains(" ssub=0 "))
        .filter_map(|line| line.strip_prefix("id=")?.split(' ').next())
        .map(str::to_owned)
        .collect()
}

/// Waits until `check` holds, looking again every 20 ms.
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    within(WAIT, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    eprintln!("lost answer: {what}");
}

/// Client output limits of 1 byte on the node at `url` (past the reply buffer every client
/// has), set back as they were when dropped.
struct TinyOutputLimits {
    url: String,
    before: String,
}

impl TinyOutputLimits {
    fn on(url: &str) -> TinyOutputLimits {
        let (_, before): (String, String) = redis::cmd("CONFIG")
            .arg("GET")
            .arg("client-output-buffer-limit")
            .query(&mut node(url))
            .expect("CONFIG GET");
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("client-output-buffer-limit")
            .arg("normal 1 1 0 pubsub 1 1 0")
            .exec(&mut node(url))
            .expect("CONFIG SET");
        TinyOutputLimits {
            url: url.to_owned(),
            before,
        }
    }
}

impl Drop for TinyOutputLimits {
    fn drop(&mut self) {
        let _restored = redis::cmd("CONFIG")
            .arg("SET")
            .arg("client-output-buffer-limit")
            .arg(&self.before)
            .exec(&mut node(&self.url));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_publish_whose_answer_was_lost_is_stored_once() {
    // Arrange: an instance that takes 64 KB events, and the channel's topic subscribed on its
    // link to the channel's primary with no local window left (a long poll answered by the
    // first event leaves the topic lingering), so no catch-up read shares the connection.
    let Some(scope) = cluster_scope("cluster_lost_answer", true).await else {
        return;
    };
    let seeds = cluster_urls();
    let app = Instance::start_tuned(&scope.prefix, &redis_url(), |figment| {
        figment
            .merge(("hub.cluster", seeds))
            .merge(("publish.max_body", 64 * 1024))
    })
    .await;
    let (primary, _) = owner_and_replica(&format!("{}:{{{ROOM}}}:meta", scope.prefix)).await;
    let head = app.head(ROOM).await;
    let port = app.port;
    let poll = tokio::spawn(async move {
        request_on(
            port,
            &format!("GET /push/{ROOM}/long-poll?since={head}"),
            "",
        )
        .await
        .json()
        .await
    });
    until("the topic is subscribed", async || {
        !shard_subscribers(&primary).is_empty()
    })
    .await;
    let first = app.publish(ROOM, json!("first")).await;
    let answered = within(WAIT, poll).await.expect("the long poll");
    assert_eq!(answered["events"][0]["id"], json!(first));
    until("the window is gone", async || {
        app.metric("reverse_ajax_channels").await == 0.0
    })
    .await;
    let linked = shard_subscribers(&primary);
    assert_eq!(linked.len(), 1, "one connection subscribes: {linked:?}");

    // Act
    let limits = TinyOutputLimits::on(&primary);
    let data = json!("x".repeat(20_000));
    let (code, answer) = app.try_publish(ROOM, &data).await;
    drop(limits);

    // Assert: the connection that carried the first attempt was closed, the retry was
    // answered, and the event is stored once.
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("ID")
        .arg(&linked[0])
        .query(&mut node(&primary))
        .expect("CLIENT LIST ID");
    assert!(list.is_empty(), "the first connection is gone: {list}");
    assert_eq!(code, 201, "{answer}");
    assert_eq!(history(&app, &first).await, [data], "stored once");
    app.stop().await;
}
