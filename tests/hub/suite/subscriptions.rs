//! Live subscriptions: the backlog first, then live events, and an honest end when a
//! subscriber cannot keep up.

use reverse_ajax::config::HubConfig;
use reverse_ajax::hub::{EventId, Hub, ResetReason, SubscriptionEnd};
use serde_json::json;

use super::{WAIT, at, fresh, head, publish_n};
use crate::common::within;

pub async fn a_subscription_replays_the_backlog_then_goes_live(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("backlog");
    let events = publish_n(&hub, &channel, 3).await;
    let mut sub = hub
        .subscribe(&channel, Some(&events[0].id))
        .await
        .expect("subscribe");

    // Act
    let second = within(WAIT, sub.next()).await.expect("event 2");
    let third = within(WAIT, sub.next()).await.expect("event 3");
    let live = hub
        .publish(&channel, json!("live").into())
        .await
        .expect("publish");
    let fourth = within(WAIT, sub.next()).await.expect("event 4");

    // Assert
    assert_eq!(sub.reset(), None);
    assert_eq!([second, third], events[1..]);
    assert_eq!(fourth, live);
    assert_eq!(sub.cursor(), live.id);
}

pub async fn a_subscription_without_a_cursor_starts_at_the_head(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("subhead");
    let old = publish_n(&hub, &channel, 2).await;
    let mut sub = hub.subscribe(&channel, None).await.expect("subscribe");

    // Act
    let new = hub
        .publish(&channel, json!("new").into())
        .await
        .expect("publish");
    let first = within(WAIT, sub.next()).await.expect("an event");

    // Assert
    assert_eq!(sub.reset(), None);
    assert_eq!(first, new);
    assert_eq!(first.id, at(&old[1].id, 3));
}

pub async fn a_subscription_with_an_unknown_epoch_resets_to_the_start_of_the_history(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("subepoch");
    let old = publish_n(&hub, &channel, 3).await;

    // Act
    let mut sub = hub
        .subscribe(&channel, Some(&EventId::new("zz9zz9", 2)))
        .await
        .expect("sub");
    let new = hub
        .publish(&channel, json!("after the reset").into())
        .await
        .expect("publish");
    let start = sub.cursor();
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(within(WAIT, sub.next()).await.expect("an event"));
    }

    // Assert: the reset continues from before the first event still held, so the whole
    // history comes, then the live event.
    assert_eq!(sub.reset(), Some(ResetReason::UnknownEpoch));
    assert_eq!(start, at(&old[0].id, 0));
    assert_eq!(got[..3], old[..]);
    assert_eq!(got[3], new);
    assert_eq!(new.id, at(&old[2].id, 4));
}

pub async fn a_subscription_older_than_the_history_replays_what_is_kept(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange: events 1..=5 are gone, 6..=10 are kept.
    let hub = make(super::with_history(5)).await;
    let channel = fresh("subevicted");
    let old = publish_n(&hub, &channel, 10).await;

    // Act
    let mut sub = hub
        .subscribe(&channel, Some(&old[1].id))
        .await
        .expect("subscribe");
    let start = sub.cursor();
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(within(WAIT, sub.next()).await.expect("an event"));
    }

    // Assert
    assert_eq!(sub.reset(), Some(ResetReason::Evicted));
    assert_eq!(start, at(&old[0].id, 5));
    assert_eq!(got[..], old[5..]);
}

pub async fn a_subscription_with_a_cursor_ahead_of_the_head_resets(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("subahead");
    let old = publish_n(&hub, &channel, 2).await;

    // Act
    let mut sub = hub
        .subscribe(&channel, Some(&at(&old[0].id, 9)))
        .await
        .expect("subscribe");
    let new = hub
        .publish(&channel, json!("next").into())
        .await
        .expect("publish");
    let first = within(WAIT, sub.next()).await.expect("an event");

    // Assert
    assert_eq!(sub.reset(), Some(ResetReason::Ahead));
    assert_eq!(first, new);
}

pub async fn a_slow_subscriber_is_cut_off_and_resumes_without_loss(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange: a queue of 4 live events, and a subscriber that stops reading after 2.
    let hub = make(HubConfig {
        subscriber_queue: 4,
        history: 100,
        ..HubConfig::default()
    })
    .await;
    let channel = fresh("slow");
    let mut sub = hub.subscribe(&channel, None).await.expect("subscribe");
    publish_n(&hub, &channel, 2).await;
    for _ in 0..2 {
        within(WAIT, sub.next())
            .await
            .expect("an event while keeping up");
    }
    publish_n(&hub, &channel, 20).await;

    // Act
    let end = within(WAIT, sub.next())
        .await
        .expect_err("20 events behind a queue of 4");
    let cursor = sub.cursor();
    let mut again = hub
        .subscribe(&channel, Some(&cursor))
        .await
        .expect("resubscribe");
    hub.publish(&channel, json!("after the resume").into())
        .await
        .expect("publish");
    let mut resumed = Vec::new();
    for _ in 0..21 {
        resumed.push(
            within(WAIT, again.next())
                .await
                .expect("a resumed event")
                .id
                .seq,
        );
    }

    // Assert
    assert_eq!(end, SubscriptionEnd::Lagged);
    assert_eq!(cursor.seq, 2, "the cursor is the last event delivered");
    assert_eq!(again.reset(), None);
    assert_eq!(resumed, (3..=23).collect::<Vec<_>>());
}

pub async fn a_subscriber_of_an_empty_channel_gets_its_first_event(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange: a subscriber waiting from the head of a channel with no history.
    let hub = make(HubConfig::default()).await;
    let channel = fresh("first");
    let start = head(&hub, &channel).await;
    let mut sub = hub
        .subscribe(&channel, Some(&start))
        .await
        .expect("subscribe");

    // Act
    let first = hub
        .publish(&channel, json!("first").into())
        .await
        .expect("publish");
    let got = within(WAIT, sub.next()).await.expect("the first event");

    // Assert
    assert_eq!(sub.reset(), None);
    assert_eq!(got.id, first.id);
    assert_eq!(got.id.seq, 1);
}
