//! Many publishers at once: ids stay unique and dense, and a subscriber that joins mid-way
//! receives exactly what follows its cursor.

use reverse_ajax::config::HubConfig;
use reverse_ajax::hub::Hub;
use serde_json::json;
use tokio::sync::mpsc;

use super::{WAIT, at, fresh, head, publish_n, seqs};
use crate::common::within;

const TASKS: u64 = 8;
const EACH: u64 = 200;

pub async fn concurrent_publishers_get_unique_dense_ids(make: impl AsyncFn(HubConfig) -> Hub) {
    // Arrange
    let hub = make(HubConfig {
        history: 2000,
        ..HubConfig::default()
    })
    .await;
    let channel = fresh("racing");
    let start = head(&hub, &channel).await;

    // Act
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (hub, channel) = (hub.clone(), channel.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..EACH {
                    let data = json!({ "task": task, "i": i });
                    mine.push(
                        hub.publish(&channel, data.into())
                            .await
                            .expect("publish")
                            .id
                            .seq,
                    );
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let mine = within(WAIT, task).await.expect("a publisher task");
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "one publisher's ids grow"
        );
        all.extend(mine);
    }
    let batch = hub.read(&channel, Some(&start)).await.expect("read");

    // Assert
    all.sort_unstable();
    let dense: Vec<u64> = (1..=TASKS * EACH).collect();
    assert_eq!(all, dense, "ids are unique and leave no gap");
    assert_eq!(seqs(&batch), dense, "reads come back in sequence order");
    for task in 0..TASKS {
        let order: Vec<_> = batch
            .events
            .iter()
            .filter(|e| e.data()["task"] == task)
            .map(|e| e.data()["i"].as_u64().expect("i"))
            .collect();
        assert_eq!(
            order,
            (0..EACH).collect::<Vec<_>>(),
            "task {task} kept its order"
        );
    }
}

pub async fn a_subscription_opened_while_publishers_run_misses_nothing(
    make: impl AsyncFn(HubConfig) -> Hub,
) {
    // Arrange: 100 events already stored, then 4 publishers adding 250 each.
    let queue = HubConfig {
        history: 4096,
        subscriber_queue: 4096,
        ..HubConfig::default()
    };
    let hub = make(queue).await;
    let channel = fresh("handover");
    publish_n(&hub, &channel, 100).await;
    let (started, mut running) = mpsc::channel(4);
    let publishers: Vec<_> = (0..4)
        .map(|_| {
            let (hub, channel, started) = (hub.clone(), channel.clone(), started.clone());
            tokio::spawn(async move {
                for i in 0..250 {
                    hub.publish(&channel, json!(i).into())
                        .await
                        .expect("publish");
                    if i == 25 {
                        let _sent = started.send(()).await; // the test may have stopped listening
                    }
                }
            })
        })
        .collect();
    within(WAIT, running.recv())
        .await
        .expect("a publisher is running");
    let now = head(&hub, &channel).await;
    let cursor = at(&now, now.seq - 50);
    let last = 100 + 4 * 250;

    // Act
    let mut sub = hub
        .subscribe(&channel, Some(&cursor))
        .await
        .expect("subscribe");
    let mut received = Vec::new();
    while received.last() != Some(&last) {
        let event = within(WAIT, sub.next()).await.expect("no gap and no lag");
        received.push(event.id.seq);
    }
    for publisher in publishers {
        within(WAIT, publisher).await.expect("a publisher task");
    }

    // Assert
    assert_eq!(sub.reset(), None);
    assert_eq!(received, (cursor.seq + 1..=last).collect::<Vec<_>>());
}
