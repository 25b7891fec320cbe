//! The reset rule: a cursor the hub cannot honour gives `reset` with its reason. A cursor into
//! a history the channel no longer has, or older than what it keeps, continues from the start
//! of what is kept (so every event still held is delivered); one ahead of the head continues
//! from the head.

use reverse_ajax::config::HubConfig;
use reverse_ajax::hub::ResetReason::{Ahead, Evicted, UnknownEpoch};
use reverse_ajax::hub::{EventId, Hub};
use serde_json::json;

use super::{at, fresh, publish_n, seqs, with_history};

pub async fn a_cursor_with_an_unknown_epoch_is_reset_to_the_start_of_the_history(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange: one channel holding its whole history, one that lost its first five events.
    let hub = make(with_history(5)).await;
    let (whole, trimmed) = (fresh("epoch"), fresh("epochtrimmed"));
    let all = publish_n(&hub, &whole, 3).await;
    let kept = publish_n(&hub, &trimmed, 10).await.split_off(5);
    let made_up = EventId::new("zz9zz9", 1);

    // Act
    let from_whole = hub.read(&whole, Some(&made_up)).await.expect("read");
    let from_trimmed = hub.read(&trimmed, Some(&made_up)).await.expect("read");

    // Assert: every event still held comes after the reset, up to the head.
    assert_eq!(from_whole.reset, Some(UnknownEpoch));
    assert_eq!(from_whole.events, all);
    assert_eq!(from_whole.next, all[2].id);
    assert_eq!(from_trimmed.reset, Some(UnknownEpoch));
    assert_eq!(from_trimmed.events, kept);
    assert_eq!(from_trimmed.next, kept[4].id);
}

pub async fn a_cursor_older_than_the_history_is_reset_to_the_oldest_kept_event(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(with_history(5)).await;
    let channel = fresh("trimmed");
    let events = publish_n(&hub, &channel, 10).await;

    // Act: events 1..=5 were trimmed, so a client holding 2 has missed 3, 4 and 5.
    let batch = hub.read(&channel, Some(&events[1].id)).await.expect("read");
    let from_zero = hub
        .read(&channel, Some(&at(&events[0].id, 0)))
        .await
        .expect("read");

    // Assert: the gap is told, and what is kept (6..=10) still comes.
    for batch in [batch, from_zero] {
        assert_eq!(batch.reset, Some(Evicted));
        assert_eq!(seqs(&batch), [6, 7, 8, 9, 10]);
        assert_eq!(batch.next, events[9].id);
    }
}

pub async fn the_oldest_kept_event_can_still_be_resumed_from(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange
    let hub = make(with_history(5)).await;
    let channel = fresh("edge");
    let events = publish_n(&hub, &channel, 10).await;

    // Act: a client holding 5 needs 6..=10, which are exactly the kept events.
    let batch = hub.read(&channel, Some(&events[4].id)).await.expect("read");

    // Assert
    assert_eq!(batch.reset, None);
    assert_eq!(seqs(&batch), [6, 7, 8, 9, 10]);
}

pub async fn a_cursor_ahead_of_the_head_is_reset_to_the_head(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("ahead");
    let events = publish_n(&hub, &channel, 3).await;

    // Act
    let batch = hub
        .read(&channel, Some(&at(&events[0].id, 4)))
        .await
        .expect("read");

    // Assert
    assert_eq!(batch.reset, Some(Ahead));
    assert!(batch.events.is_empty());
    assert_eq!(batch.next, events[2].id);
}

pub async fn history_keeps_only_the_newest_events(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange
    let hub = make(with_history(5)).await;
    let channel = fresh("bounded");

    // Act
    let events = publish_n(&hub, &channel, 12).await;
    let recent = hub.recent(&channel, 100).await.expect("recent");

    // Assert
    assert_eq!(seqs(&recent), [8, 9, 10, 11, 12]);
    assert_eq!(recent.events, events[7..]);
}

pub async fn history_keeps_only_what_fits_in_history_bytes(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange: about 1 KiB of history, and events of about 300 bytes each.
    let hub = make(HubConfig {
        history_bytes: 1024,
        ..HubConfig::default()
    })
    .await;
    let channel = fresh("bytes");
    let big = "x".repeat(300);

    // Act
    let mut events = Vec::new();
    for _ in 0..20 {
        events.push(
            hub.publish(&channel, json!(big).into())
                .await
                .expect("publish"),
        );
    }
    let recent = hub.recent(&channel, 100).await.expect("recent");
    let from_first = hub.read(&channel, Some(&events[0].id)).await.expect("read");

    // Assert
    let kept: usize = recent.events.iter().map(|e| e.data_json().len()).sum();
    assert!(
        !recent.events.is_empty() && kept <= 1024,
        "{kept} bytes kept"
    );
    assert!(recent.events.len() < 20, "old events were evicted");
    assert_eq!(
        recent.events.last(),
        events.last(),
        "the newest event is kept"
    );
    assert_eq!(
        from_first.reset,
        Some(Evicted),
        "a cursor into evicted history is reset, never a silent gap"
    );
    assert_eq!(from_first.events, recent.events, "what is kept still comes");
    assert_eq!(from_first.next, events[19].id);
}
