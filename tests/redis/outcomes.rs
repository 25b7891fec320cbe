//! What a publish's answer promises when Redis misbehaves: 201 means stored, 503 means not
//! stored (and it is never delivered), 504 means it may have been, and a retry with the same
//! `Idempotency-Key` then stores it at most once.

use rustix::process::Signal;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::common::within;
use crate::follower::{Seen, follow_sse};
use crate::harness::{Instance, WAIT};
use crate::private::{Persistence, PrivateRedis};
use crate::support::unique_prefix;

const ROOM: &str = "room";

/// An instance on `redis` with one event on the channel, and an SSE follower from there on
/// that stops at the id the returned sender names.
async fn followed(
    redis: &PrivateRedis,
) -> (Instance, watch::Sender<Option<String>>, JoinHandle<Seen>) {
    let instance = Instance::start_with(&unique_prefix("outcomes"), &redis.url()).await;
    instance.publish(ROOM, json!("before")).await;
    let start = instance.head(ROOM).await;
    let (target, stop_at) = watch::channel(None);
    let follower = follow_sse(instance.port, ROOM, start, stop_at);
    (instance, target, follower)
}

/// Publishes `data` with `key` until Redis stores it or says it did; the status and answer.
async fn publish_until_known(instance: &Instance, data: &Value, key: &str) -> (u16, Value) {
    within(WAIT, async {
        loop {
            let (code, answer) = instance.try_publish_once(ROOM, data, Some(key)).await;
            if code != 503 && code != 504 {
                return (code, answer);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_publish_redis_did_not_answer_is_a_504_and_its_retry_stores_it_once() {
    // Arrange: a subscriber, and Redis frozen (SIGSTOP) while a publish is on its way.
    let Some(redis) = PrivateRedis::start("outcomes", Persistence::AppendOnly).await else {
        return;
    };
    let (instance, target, follower) = followed(&redis).await;

    // Act
    redis.signal(Signal::STOP);
    let (stalled, answer) = instance
        .try_publish_once(ROOM, &json!("stalled"), Some("retry-1"))
        .await;
    redis.signal(Signal::CONT);
    let (retried, again) = publish_until_known(&instance, &json!("stalled"), "retry-1").await;
    let after = instance.publish(ROOM, json!("after")).await;
    target.send_replace(Some(after));
    instance.publish(ROOM, json!("the end")).await;
    let seen = within(WAIT, follower).await.expect("the follower");

    // Assert: unknown at first, then the same single event.
    assert_eq!(stalled, 504, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|m| m.contains("Idempotency-Key"))
    );
    assert_eq!(
        (retried, &again["duplicate"]),
        (200, &json!(true)),
        "{again}"
    );
    assert_eq!(seen.data()[..2], [json!("stalled"), json!("after")]);
    instance.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_publish_answered_503_is_never_delivered() {
    // Arrange: a subscriber on an instance whose Redis is gone, then back.
    let Some(mut redis) = PrivateRedis::start("outcomes", Persistence::AppendOnly).await else {
        return;
    };
    let (instance, target, follower) = followed(&redis).await;

    // Act: publish until one is refused outright (the first may find a broken connection
    // and answer 504), then bring Redis back.
    redis.kill();
    let mut answers = Vec::new();
    while answers.last().is_none_or(|(code, _)| *code != 503) {
        let n = answers.len();
        answers.push(instance.try_publish(ROOM, &json!({ "down": n })).await);
        assert!(n < 50, "no publish was refused: {answers:?}");
    }
    assert!(redis.spawn(), "redis-server starts again");
    redis.ready().await;
    let after = publish_until_known(&instance, &json!("after"), "after-1").await;
    target.send_replace(after.1["id"].as_str().map(str::to_owned));
    instance.publish(ROOM, json!("the end")).await;
    let seen = within(WAIT, follower).await.expect("the follower");

    // Assert: every refusal is 503 or 504, what a 503 refused never arrives, and the restart
    // (a new epoch) reached the follower as the event or as a reset.
    assert!(
        answers.iter().all(|(code, _)| *code == 503 || *code == 504),
        "{answers:?}"
    );
    let refused = json!({ "down": answers.len() - 1 });
    assert!(
        !seen.data().contains(&refused),
        "a 503 was delivered: {seen:?}"
    );
    let after = after.1["id"].as_str().expect("an id").to_owned();
    seen.assert_no_silent_gap(&[after]);
    instance.stop().await;
}
