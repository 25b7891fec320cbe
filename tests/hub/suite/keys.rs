//! Idempotency keys: a publish repeated with its key stores nothing and answers the first
//! event's id, however the repeats race, until the key's time is up.

use std::time::Duration;

use reverse_ajax::config::HubConfig;
use reverse_ajax::hub::{Hub, IdempotencyKey, Published};
use serde_json::json;

use super::{fresh, head, seqs};

/// A key remembered for `ttl`.
fn key(text: &str, ttl: Duration) -> IdempotencyKey {
    IdempotencyKey::parse(text, ttl).expect("a valid key")
}

pub async fn a_repeated_key_stores_one_event_and_answers_its_id(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("keyed");
    let start = head(&hub, &channel).await;
    let once = key("order-17", Duration::from_secs(60));

    // Act
    let first = hub
        .publish_once(&channel, json!(1).into(), Some(&once))
        .await;
    let again = hub
        .publish_once(&channel, json!(2).into(), Some(&once))
        .await;
    let other = hub
        .publish_once(&fresh("other"), json!(3).into(), Some(&once))
        .await;
    let batch = hub.read(&channel, Some(&start)).await.expect("read");

    // Assert
    let Ok(Published::Stored(event)) = first else {
        panic!("the first use stores: {first:?}")
    };
    assert_eq!(again, Ok(Published::Duplicate(event.id.clone())));
    assert!(
        matches!(other, Ok(Published::Stored(_))),
        "keys are per channel: {other:?}"
    );
    assert_eq!(seqs(&batch), [event.id.seq], "one event was stored");
    assert_eq!(batch.events[0].data(), Some(json!(1)));
}

pub async fn a_key_reused_after_its_time_is_a_new_event(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange: a key remembered for a millisecond.
    let hub = make(HubConfig::default()).await;
    let channel = fresh("expiring");
    let once = key("soon", Duration::from_millis(1));
    let first = hub
        .publish_once(&channel, json!(1).into(), Some(&once))
        .await;

    // Act: repeat until the key is forgotten (each repeat before that stores nothing).
    let mut repeats = 0;
    let later = loop {
        match hub
            .publish_once(&channel, json!(2).into(), Some(&once))
            .await
        {
            Ok(Published::Duplicate(_)) if repeats < 100_000 => {
                repeats += 1;
                tokio::task::yield_now().await;
            }
            other => break other,
        }
    };

    // Assert
    let (Ok(Published::Stored(first)), Ok(Published::Stored(later))) = (first, later) else {
        panic!("both uses store an event");
    };
    assert_eq!(later.id.seq, first.id.seq + 1, "the repeats stored nothing");
}

pub async fn concurrent_publishes_with_one_key_store_one_event(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange
    let hub = make(HubConfig::default()).await;
    let channel = fresh("racing");
    let start = head(&hub, &channel).await;
    let once = key("same-for-all", Duration::from_secs(60));

    // Act: sixteen publishers with the same key at once.
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let (hub, channel, once) = (Hub::clone(&hub), channel.clone(), once.clone());
            tokio::spawn(async move {
                hub.publish_once(&channel, json!(n).into(), Some(&once))
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("a publisher").expect("a publish"));
    }
    let batch = hub.read(&channel, Some(&start)).await.expect("read");

    // Assert
    let stored: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Published::Stored(event) => Some(event.id.clone()),
            Published::Duplicate(_) => None,
        })
        .collect();
    assert_eq!(
        stored.len(),
        1,
        "exactly one publisher stored: {outcomes:?}"
    );
    assert!(outcomes.iter().all(|o| match o {
        Published::Stored(event) => event.id == stored[0],
        Published::Duplicate(id) => *id == stored[0],
    }));
    assert_eq!(seqs(&batch), [stored[0].seq]);
}
