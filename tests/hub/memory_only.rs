//! What only the in-memory backend promises: a bounded channel table, sweeping of idle
//! channels, and age-based expiry (checked with `history_ttl = 0`, which expires every event
//! at once, so no test waits for a clock).

use std::sync::Arc;

use reverse_ajax::config::HubConfig;
use reverse_ajax::hub::memory::MemoryHub;
use reverse_ajax::hub::{EventHub, Hub, HubError};

use crate::suite::{at, fresh, head, publish_n};

/// A memory hub with `max_channels` and `history_ttl` (seconds) set.
fn memory(max_channels: usize, history_ttl: u64) -> Arc<MemoryHub> {
    let config = HubConfig {
        max_channels,
        history_ttl,
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
async fn reading_many_channels_stops_at_max_channels() {
    // Arrange
    let hub = memory(100, 600);
    let mut outcomes = Vec::new();

    // Act
    for i in 0..5000 {
        let channel = fresh(&format!("many{i}"));
        outcomes.push(hub.read(&channel, None).await.map(|_| ()));
        assert!(
            hub.channel_count() <= 100,
            "the table grew past max_channels"
        );
    }

    // Assert
    assert!(
        outcomes[..100].iter().all(Result::is_ok),
        "the first 100 channels fit"
    );
    assert!(outcomes[100..].iter().all(|o| *o == Err(HubError::Full)));
    assert_eq!(hub.channel_count(), 100);
}

#[tokio::test]
async fn a_full_hub_makes_room_by_sweeping_idle_channels() {
    // Arrange: with history_ttl = 0 a channel nobody listens to is idle at once.
    let hub = memory(100, 0);

    // Act
    for i in 0..5000 {
        hub.read(&fresh(&format!("room{i}")), None)
            .await
            .expect("room is made");

        // Assert
        assert!(
            hub.channel_count() <= 100,
            "the table grew past max_channels"
        );
    }
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
    let long = memory(1000, 600);
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
    assert!(
        batch.reset,
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
    assert!(
        batch.reset,
        "the old cursor belongs to a history that is gone"
    );
    assert_ne!(batch.next.epoch, events[1].id.epoch);
    assert_eq!(batch.next, at(&batch.next, 0));
    assert_eq!(head(&as_hub(&hub), &channel).await.seq, 0);
}
