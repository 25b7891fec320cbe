//! Per-channel interest: an instance subscribes only to the live topics of channels that have
//! subscribers there, so adding instances adds publish capacity too.

use std::time::Duration;

use serde_json::json;

use crate::common::within;
use crate::harness::{Instance, WAIT, cluster_scope, exclusive_scope, scope};
use crate::support::redis_url;

const INSTANCES: usize = 3;
const PER_INSTANCE: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_instance_receives_only_the_live_traffic_of_its_own_channels() {
    // Alone: 300 streams and 3 instances would slow the other tests past their deadlines.
    let Some(scope) = exclusive_scope("interest_share").await else {
        return;
    };
    let mut instances = Vec::new();
    for _ in 0..INSTANCES {
        instances.push(Instance::start(&scope.prefix).await);
    }
    each_receives_its_share(instances, "one Redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_instance_receives_only_the_live_traffic_of_its_own_channels_on_a_cluster() {
    let Some(scope) = cluster_scope("interest_share_cluster", true).await else {
        return;
    };
    let mut instances = Vec::new();
    for _ in 0..INSTANCES {
        instances.push(Instance::start_on_cluster(&scope.prefix).await);
    }
    each_receives_its_share(instances, "cluster").await;
}

/// 300 channels, each of the 3 `instances` with a subscriber on each of its own 100: one event
/// on every channel reaches its subscriber, and each instance receives only its share.
async fn each_receives_its_share(instances: Vec<Instance>, on: &str) {
    // Arrange: the subscribers.
    let channel = |n: usize| format!("c{n}");
    let mut streams = Vec::new();
    for (k, instance) in instances.iter().enumerate() {
        for n in k * PER_INSTANCE..(k + 1) * PER_INSTANCE {
            streams.push(instance.sse(&channel(n), None).await);
        }
    }

    // Act: one event on every channel, published round robin on the three instances.
    let total = INSTANCES * PER_INSTANCE;
    let mut sent = Vec::new();
    for n in 0..total {
        let on = &instances[n % INSTANCES];
        sent.push(on.publish(&channel(n), json!({ "n": n })).await);
    }
    for (n, stream) in streams.iter_mut().enumerate() {
        assert_eq!(stream.ids(1).await, [sent[n].clone()], "channel {n}");
    }

    // Assert
    for (k, instance) in instances.iter().enumerate() {
        let received = instance.metric("reverse_ajax_backend_messages_total").await;
        let subscribed = instance
            .metric("reverse_ajax_backend_subscribed_channels")
            .await;
        eprintln!(
            "interest ({on}): instance {k} received {received} of {total} publishes \
             ({:.1} %), subscribed to {subscribed} channels",
            100.0 * received / total as f64
        );
        assert!(received >= PER_INSTANCE as f64, "its own channels' events");
        assert!(
            received <= 0.4 * total as f64,
            "instance {k} received {received} of {total}"
        );
        assert_eq!(subscribed, PER_INSTANCE as f64);
    }
    drop(streams);
    for instance in instances {
        instance.stop().await;
    }
}

/// How many links subscribe to the live topic of `ch`.
fn topic_subscribers(prefix: &str, ch: &str) -> u64 {
    let mut redis = redis::Client::open(redis_url().as_str())
        .expect("a Redis URL")
        .get_connection_with_timeout(Duration::from_secs(2))
        .expect("a side connection to Redis");
    let (_, count): (String, u64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(format!("{prefix}:{{{ch}}}:live"))
        .query(&mut redis)
        .expect("PUBSUB NUMSUB");
    count
}

/// Waits until `count` links subscribe to the live topic of `ch`.
async fn topic_subscribers_become(prefix: &str, ch: &str, count: u64) {
    within(WAIT, async {
        while topic_subscribers(prefix, ch) != count {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_topic_is_subscribed_with_its_first_subscriber_and_left_after_its_last() {
    // Arrange: an instance that unsubscribes 300 ms after a channel's last subscriber left.
    let Some(scope) = scope("interest_linger").await else {
        return;
    };
    let a = Instance::start_tuned(&scope.prefix, &redis_url(), |figment| {
        figment.merge(("hub.unsubscribe_after_ms", 300))
    })
    .await;
    let head = a.head("room").await;
    let before_anyone = topic_subscribers(&scope.prefix, "room");

    // Act 1: a long poll waits on the channel.
    let mut held = a
        .request(&format!("GET /push/room/long-poll?since={head}"), "")
        .await;
    topic_subscribers_become(&scope.prefix, "room", 1).await;

    // Act 2: an event answers it, which ends its subscription.
    let id = a.publish("room", json!("answers the poll")).await;
    let answer = held.json().await;
    topic_subscribers_become(&scope.prefix, "room", 0).await;

    // Assert: the instance is no longer told of the channel's events.
    let received = a.metric("reverse_ajax_backend_messages_total").await;
    a.publish("room", json!("nobody listens")).await;
    assert_eq!(
        before_anyone, 0,
        "nobody subscribed before a subscriber came"
    );
    assert_eq!(answer["events"][0]["id"], id.as_str());
    assert_eq!(received, 1.0, "the one event published while subscribed");
    assert_eq!(
        a.metric("reverse_ajax_backend_subscribed_channels").await,
        0.0
    );
    a.stop().await;
}
