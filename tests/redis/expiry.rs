//! Keys under the Redis backend: an idle channel expires by itself, and an event older than
//! `history_ttl_ms` is not replayed.

use std::time::Duration;

use reverse_ajax::config::{Backend, HubConfig};
use reverse_ajax::hub::redis::RedisHub;
use reverse_ajax::hub::{Channel, EventHub, ResetReason};
use serde_json::json;

use crate::common::within;
use crate::harness::{WAIT, scope};
use crate::support::{count_keys, redis_url};

fn hub(prefix: &str, history_ttl_ms: u64) -> RedisHub {
    RedisHub::new(HubConfig {
        backend: Backend::Redis,
        url: redis_url(),
        prefix: prefix.to_owned(),
        history_ttl_ms,
        ..HubConfig::default()
    })
    .expect("a Redis hub")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_channel_expires_by_itself() {
    // Arrange
    let Some(scope) = scope("expiry_keys").await else {
        return;
    };
    let hub = hub(&scope.prefix, 1000);
    let channel = Channel::parse("room").expect("a channel");

    // Act
    hub.publish(&channel, json!("soon gone").into())
        .await
        .expect("publish");
    let channel_keys = format!("{}:{{room}}:*", scope.prefix);
    let stored = count_keys(&channel_keys);
    within(WAIT, async {
        while count_keys(&channel_keys) > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;

    // Assert: the meta hash, the stream and the publish's one-shot key existed, then expired
    // with nobody deleting them.
    assert_eq!(stored, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reading_a_channel_nobody_published_to_leaves_no_key() {
    // Arrange
    let Some(scope) = scope("expiry_reads").await else {
        return;
    };
    let hub = hub(&scope.prefix, 600_000);
    let channel = Channel::parse("quiet").expect("a channel");

    // Act
    let head = hub.read(&channel, None).await.expect("read").next;
    hub.read(&channel, Some(&head)).await.expect("read after");
    hub.recent(&channel, 10).await.expect("recent");
    let subscription = hub
        .subscribe(&channel, Some(&head))
        .await
        .expect("subscribe");
    drop(subscription);

    // Assert
    assert_eq!(count_keys(&format!("{}:{{quiet}}:*", scope.prefix)), 0);
    assert_eq!(
        hub.local_channel_count(),
        0,
        "the local window went with its subscriber"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_older_than_history_ttl_is_not_replayed() {
    // Arrange: a one-second history; the channel's epoch stays alive through reads.
    let Some(scope) = scope("expiry_age").await else {
        return;
    };
    let hub = hub(&scope.prefix, 1000);
    let channel = Channel::parse("room").expect("a channel");
    let start = hub.read(&channel, None).await.expect("read").next;
    let old = hub
        .publish(&channel, json!("old").into())
        .await
        .expect("publish");
    let young = hub.read(&channel, Some(&start)).await.expect("read");

    // Act: poll (keeping the epoch alive) until the event has aged out.
    let aged = within(WAIT, async {
        loop {
            let batch = hub.read(&channel, Some(&start)).await.expect("read");
            if batch.reset.is_some() {
                return batch;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;

    // Assert
    assert_eq!(young.events, std::slice::from_ref(&old));
    assert_eq!(aged.reset, Some(ResetReason::Evicted));
    assert!(aged.events.is_empty());
    assert_eq!(aged.next, old.id, "the head stays where it was");
}
