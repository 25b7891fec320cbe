//! What only the in-memory backend promises: a bounded channel table that reads never fill,
//! sweeping of idle channels, a byte bound over all histories, and age-based expiry (checked with `history_ttl_ms = 0`, which expires every event
//! at once, so no test waits for a clock).

use std::sync::Arc;

use reverse_ajax::config::{HubConfig, Section};
use reverse_ajax::hub::memory::MemoryHub;
use reverse_ajax::hub::{EventHub, Hub, HubError, ResetReason};
use serde_json::json;

use crate::suite::{at, fresh, head, publish_n};

/// A memory hub with `max_channels` and `history_ttl_ms` set.
fn memory(max_channels: usize, history_ttl_ms: u64) -> Arc<MemoryHub> {
    let config = HubConfig {
        max_channels,
        history_ttl_ms,
        ..HubConfig::default()
    };
    Arc::new(MemoryHub::new(
        config.check().expect("a valid test configuration"),
    ))
}

/// The same hub behind the trait, for the suite's helpers.
fn as_hub(hub: &Arc<MemoryHub>) -> Hub {
    hub.clone()
}

#[tokio::test]
async fn reading_channels_creates_none() {
    // Arrange
    let hub = memory(100, 600_000);

    // Act: polls, replays and page renders on 5,000 channels nobody published to.
    for i in 0..5000 {
        let channel = fresh(&format!("many{i}"));
        let head = hub
            .read(&channel, None)
            .await
            .expect("a read is never refused");
        hub.read(&channel, Some(&head.next))
            .await
            .expect("read after");
        hub.recent(&channel, 10).await.expect("recent");
    }

    // Assert
    assert_eq!(hub.channel_count(), 0, "reads left channels behind");
    assert_eq!(hub.history_bytes(), 0);
}

#[tokio::test]
async fn a_subscriber_of_an_empty_channel_leaves_nothing_behind() {
    // Arrange
    let hub = memory(100, 600_000);
    let channel = fresh("watched");

    // Act
    let sub = hub.subscribe(&channel, None).await.expect("subscribe");
    let while_open = hub.channel_count();
    drop(sub);

    // Assert
    assert_eq!(while_open, 1, "a live subscriber holds a light entry");
    assert_eq!(
        hub.channel_count(),
        0,
        "the entry goes with the last subscriber"
    );
}

#[tokio::test]
async fn a_full_hub_refuses_new_channels_until_a_sweep_makes_room() {
    // Arrange: with history_ttl_ms = 0 every event has expired by the time the sweep runs.
    let hub = memory(100, 0);
    for i in 0..100 {
        publish_n(&as_hub(&hub), &fresh(&format!("full{i}")), 1).await;
    }

    // Act
    let refused = hub.publish(&fresh("one.more"), json!(1).into()).await;
    let known = hub.publish(&fresh("full0"), json!(1).into()).await;
    let remaining = hub.sweep();
    let after_sweep = hub.publish(&fresh("one.more"), json!(1).into()).await;

    // Assert
    assert_eq!(refused.err(), Some(HubError::Full));
    assert!(known.is_err(), "a fresh name is a new channel too");
    assert_eq!(remaining, 0);
    assert!(after_sweep.is_ok(), "the sweep made room");
}

#[tokio::test]
async fn all_histories_together_stay_within_max_bytes_oldest_first() {
    // Arrange: room for about 20 small events in all.
    let hub = Arc::new(MemoryHub::new(
        HubConfig {
            max_bytes: 20 * 400,
            ..HubConfig::default()
        }
        .check()
        .expect("a valid test configuration"),
    ));
    let (old, new) = (fresh("old"), fresh("new"));
    let first = publish_n(&as_hub(&hub), &old, 10).await;

    // Act
    let last = publish_n(&as_hub(&hub), &new, 30).await;

    // Assert
    assert!(
        hub.history_bytes() <= 20 * 400,
        "{} bytes",
        hub.history_bytes()
    );
    let from_old = hub.read(&old, Some(&first[0].id)).await.expect("read");
    assert_eq!(
        from_old.reset,
        Some(ResetReason::Evicted),
        "the oldest events went first, and that is not silent"
    );
    let newest = hub.read(&new, Some(&last[28].id)).await.expect("read");
    assert_eq!(newest.events.len(), 1, "the newest event is kept");
}

#[tokio::test]
async fn sweep_removes_idle_channels() {
    // Arrange
    let hub = memory(1000, 0);
    for i in 0..50 {
        publish_n(&as_hub(&hub), &fresh(&format!("idle{i}")), 2).await;
    }
    let before = hub.channel_count();

    // Act
    let remaining = hub.sweep();

    // Assert
    assert_eq!(before, 50);
    assert_eq!(remaining, 0);
    assert_eq!(hub.channel_count(), 0);
}

#[tokio::test]
async fn sweep_keeps_channels_that_are_in_use() {
    // Arrange: one channel with a subscriber, one with fresh history, one idle.
    let short = memory(1000, 0);
    let long = memory(1000, 600_000);
    let (watched, idle) = (fresh("watched"), fresh("idle"));
    let sub = short.subscribe(&watched, None).await.expect("subscribe");
    short.read(&idle, None).await.expect("read");
    publish_n(&as_hub(&long), &fresh("kept"), 1).await;

    // Act
    let with_subscriber = short.sweep();
    drop(sub);
    let after_unsubscribe = short.sweep();
    let with_history = long.sweep();

    // Assert
    assert_eq!(with_subscriber, 1, "a channel with a subscriber stays");
    assert_eq!(after_unsubscribe, 0);
    assert_eq!(with_history, 1, "a channel with replayable events stays");
}

#[tokio::test]
async fn events_older_than_history_ttl_are_not_replayed() {
    // Arrange
    let hub = memory(1000, 0);
    let channel = fresh("aged");
    let events = publish_n(&as_hub(&hub), &channel, 3).await;

    // Act
    let batch = hub.read(&channel, Some(&events[0].id)).await.expect("read");
    let recent = hub.recent(&channel, 10).await.expect("recent");

    // Assert
    assert_eq!(
        batch.reset,
        Some(ResetReason::Evicted),
        "expired events cannot be replayed, and that is not silent"
    );
    assert!(batch.events.is_empty());
    assert_eq!(batch.next, events[2].id);
    assert!(recent.events.is_empty());
}

#[tokio::test]
async fn a_swept_channel_comes_back_with_a_new_epoch() {
    // Arrange
    let hub = memory(1000, 0);
    let channel = fresh("reborn");
    let events = publish_n(&as_hub(&hub), &channel, 2).await;
    hub.sweep();

    // Act
    let batch = hub.read(&channel, Some(&events[1].id)).await.expect("read");

    // Assert
    assert_eq!(
        batch.reset,
        Some(ResetReason::UnknownEpoch),
        "the old cursor belongs to a history that is gone"
    );
    assert_ne!(batch.next.epoch, events[1].id.epoch);
    assert_eq!(batch.next, at(&batch.next, 0));
    assert_eq!(head(&as_hub(&hub), &channel).await.seq, 0);
}
