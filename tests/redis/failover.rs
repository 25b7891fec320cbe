//! Failover: a subscriber whose instance dies resumes on another with its last id and
//! receives exactly the rest.

use serde_json::json;

use crate::harness::{Instance, ids_on, scope, seq};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_resumes_on_b_after_a_stops_with_exactly_the_rest() {
    // Arrange: a subscriber on A, 50 events published on B.
    let Some(scope) = scope("failover").await else {
        return;
    };
    let a = Instance::start(&scope.prefix).await;
    let b = Instance::start(&scope.prefix).await;
    let head = a.head("room").await;
    let mut on_a = a.sse("room", Some(&head)).await;
    let mut sent = Vec::new();
    for n in 0..50 {
        sent.push(b.publish("room", json!({ "n": n })).await);
    }

    // Act: read 20 on A, stop A mid-stream, resume on B from the last id read.
    let first = on_a.ids(20).await;
    a.stop().await;
    let last = first.last().expect("20 ids").clone();
    let mut on_b = b.sse("room", Some(&last)).await;
    let rest = on_b.ids(30).await;
    let after = b.publish("room", json!("after the failover")).await;
    let next = on_b.ids(1).await;

    // Assert
    assert_eq!(first, sent[..20]);
    assert_eq!(rest, sent[20..], "exactly the rest, in order");
    assert_eq!(next, [after], "nothing repeated after the rest");
    assert_eq!(
        [first, rest, next].concat(),
        ids_on(&head, seq(&head) + 1, seq(&head) + 51)
    );
    b.stop().await;
}
