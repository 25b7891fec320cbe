//! Two instances on one Redis act as one hub: what is published on B reaches A's
//! subscribers, in order and with B's ids.

use serde_json::json;

use crate::harness::{Instance, ids_on, scope, seq};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_sse_subscriber_on_a_receives_what_b_publishes_in_order_with_bs_ids() {
    // Arrange
    let Some(scope) = scope("two_instances_sse").await else {
        return;
    };
    let a = Instance::start(&scope.prefix).await;
    let b = Instance::start(&scope.prefix).await;
    let head = a.head("room").await;
    let mut stream = a.sse("room", Some(&head)).await;

    // Act
    let mut sent = Vec::new();
    for n in 0..10 {
        sent.push(b.publish("room", json!({ "n": n })).await);
    }
    let mut received = Vec::new();
    for _ in 0..10 {
        received.push(stream.next().await);
    }

    // Assert
    assert_eq!(
        sent,
        ids_on(&head, seq(&head) + 1, seq(&head) + 10),
        "dense ids on B"
    );
    let ids: Vec<_> = received
        .iter()
        .map(|e| e.id.clone().expect("an id"))
        .collect();
    assert_eq!(ids, sent, "A delivers B's events in order, with B's ids");
    for (n, event) in received.iter().enumerate() {
        let envelope: serde_json::Value = serde_json::from_str(&event.data).expect("JSON");
        assert_eq!(envelope["data"], json!({ "n": n }));
        assert_eq!(envelope["channel"], "room");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_poll_on_a_is_answered_by_a_publish_on_b() {
    // Arrange
    let Some(scope) = scope("two_instances_long_poll").await else {
        return;
    };
    let a = Instance::start(&scope.prefix).await;
    let b = Instance::start(&scope.prefix).await;
    let head = a.head("room").await;
    let mut held = a
        .request(&format!("GET /push/room/long-poll?since={head}"), "")
        .await;

    // Act
    let id = b.publish("room", json!("from B")).await;
    let answer = held.json().await;

    // Assert
    assert_eq!(held.code, 200);
    assert_eq!(answer["reset"], false);
    assert_eq!(answer["events"][0]["id"], id.as_str());
    assert_eq!(answer["events"][0]["data"], "from B");
    assert_eq!(answer["next"], id.as_str());
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_instances_hand_out_the_same_epoch_and_dense_ids() {
    // Arrange
    let Some(scope) = scope("two_instances_ids").await else {
        return;
    };
    let a = Instance::start(&scope.prefix).await;
    let b = Instance::start(&scope.prefix).await;

    // Act: a read on A creates the epoch, publishes alternate between the instances.
    let head = a.head("room").await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let on = if n % 2 == 0 { &a } else { &b };
        ids.push(on.publish("room", json!(n)).await);
    }

    // Assert: a client holding `<epoch>-0` from A misses nothing.
    assert_eq!(seq(&head), 0);
    assert_eq!(ids, ids_on(&head, 1, 6));
    a.stop().await;
    b.stop().await;
}
