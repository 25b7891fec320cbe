//! Reading a channel: order, dense ids and the cursor rule when the cursor can be honoured.

use reverse_ajax::config::HubConfig;
use reverse_ajax::hub::Hub;
use serde_json::json;

use super::{at, fresh, head, publish_n, seqs};

pub async fn events_come_back_in_publish_order(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("order");
    let start = head(&hub, &channel).await;
    let sent = [
        json!("first"),
        json!(2),
        json!({"third": true}),
        json!([4]),
        json!(null),
    ];

    // Act
    for data in &sent {
        hub.publish(&channel, data.clone().into())
            .await
            .expect("publish");
    }
    let batch = hub.read(&channel, Some(&start)).await.expect("read");

    // Assert
    let data: Vec<_> = batch.events.iter().map(|e| e.data()).collect();
    assert_eq!(data, sent);
    assert!(batch.events.iter().all(|e| e.channel == channel));
}

pub async fn ids_are_dense_and_start_at_one(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("dense");
    let start = head(&hub, &channel).await;

    // Act
    let events = publish_n(&hub, &channel, 5).await;

    // Assert
    assert_eq!(start.seq, 0, "a new channel's head is 0");
    let ids: Vec<_> = events.iter().map(|e| e.id.clone()).collect();
    let expected: Vec<_> = (1..=5).map(|seq| at(&start, seq)).collect();
    assert_eq!(ids, expected);
}

pub async fn reading_without_a_cursor_gives_no_events_and_the_head(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("nocursor");
    let events = publish_n(&hub, &channel, 3).await;

    // Act
    let batch = hub.read(&channel, None).await.expect("read");

    // Assert
    assert!(batch.events.is_empty());
    assert_eq!(batch.reset, None);
    assert_eq!(batch.next, events[2].id);
}

pub async fn reading_after_a_cursor_gives_exactly_the_later_events(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("after");
    let events = publish_n(&hub, &channel, 6).await;

    // Act
    let batch = hub.read(&channel, Some(&events[2].id)).await.expect("read");

    // Assert
    assert_eq!(batch.reset, None);
    assert_eq!(seqs(&batch), [4, 5, 6]);
    assert_eq!(batch.events, events[3..]);
    assert_eq!(batch.next, events[5].id);
}

pub async fn reading_at_the_head_gives_nothing_and_keeps_the_cursor(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("athead");
    let events = publish_n(&hub, &channel, 2).await;

    // Act
    let batch = hub.read(&channel, Some(&events[1].id)).await.expect("read");

    // Assert
    assert!(batch.events.is_empty());
    assert_eq!(batch.reset, None);
    assert_eq!(batch.next, events[1].id);
}

pub async fn channels_do_not_see_each_others_events(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let (one, two) = (fresh("one"), fresh("two"));
    let start_two = head(&hub, &two).await;

    // Act
    publish_n(&hub, &one, 3).await;
    let mine = hub
        .publish(&two, json!("only on two").into())
        .await
        .expect("publish");
    let batch = hub.read(&two, Some(&start_two)).await.expect("read");

    // Assert
    assert_eq!(mine.id.seq, 1, "each channel counts its own events");
    assert_eq!(batch.events, [mine]);
}

pub async fn recent_gives_the_newest_events_oldest_first(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("recent");
    let events = publish_n(&hub, &channel, 5).await;

    // Act
    let some = hub.recent(&channel, 3).await.expect("recent");
    let all = hub.recent(&channel, 100).await.expect("recent");

    // Assert
    assert_eq!(some.events, events[2..]);
    assert_eq!(all.events, events);
    assert_eq!(some.next, events[4].id);
    assert_eq!(some.reset, None);
}

pub async fn a_cursor_from_an_empty_channel_sees_its_first_event(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange: the head of a channel nobody has published to yet.
    let hub = make(HubConfig::default()).await;
    let channel = fresh("empty");
    let start = head(&hub, &channel).await;

    // Act
    let first = hub
        .publish(&channel, json!("first").into())
        .await
        .expect("publish");
    let batch = hub.read(&channel, Some(&start)).await.expect("read");

    // Assert
    assert_eq!(start.seq, 0);
    assert_eq!(
        first.id,
        at(&start, 1),
        "the first history takes the epoch the head showed"
    );
    assert_eq!(batch.reset, None);
    assert_eq!(seqs(&batch), [1]);
}

pub async fn many_reads_then_a_publish_to_a_new_channel_succeeds(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange: a table of 100 channels, and 10,000 reads of channels that do not exist.
    let hub = make(HubConfig {
        max_channels: 100,
        ..HubConfig::default()
    })
    .await;
    for i in 0..10_000 {
        hub.read(&fresh(&format!("nobody{i}")), None)
            .await
            .expect("a read");
    }

    // Act
    let published = hub
        .publish(&fresh("brand.new"), json!("hello").into())
        .await;

    // Assert
    assert!(published.is_ok(), "reads filled the table: {published:?}");
}
