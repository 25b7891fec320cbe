//! Redis trouble: lost pub/sub messages, killed connections and an unreachable server.
//! Subscribers stay connected and catch up from the stream; publishes answer 503 while Redis
//! cannot be reached, quickly rather than hanging.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::common::within;
use crate::follower::{Item, follow_sse};
use crate::harness::{Instance, WAIT, exclusive_scope, ids_on, scope, seq};
use crate::support::redis_url;

fn redis() -> redis::Connection {
    redis::Client::open(redis_url().as_str())
        .expect("a Redis URL")
        .get_connection_with_timeout(Duration::from_secs(2))
        .expect("a side connection to Redis")
}

/// Stores an event on `ch` the way `publish.lua` does but without announcing it on pub/sub,
/// as if its message had been lost. Returns its id.
fn store_silently(prefix: &str, ch: &str, data: &str) -> String {
    let mut redis = redis();
    let meta = format!("{prefix}:{{{ch}}}:meta");
    let epoch: String = redis::cmd("HGET")
        .arg(&meta)
        .arg("epoch")
        .query(&mut redis)
        .expect("the channel's epoch");
    let seq: u64 = redis::cmd("HINCRBY")
        .arg(&meta)
        .arg("seq")
        .arg(1)
        .query(&mut redis)
        .expect("HINCRBY");
    redis::cmd("HINCRBY")
        .arg(&meta)
        .arg("bytes")
        .arg(data.len())
        .exec(&mut redis)
        .expect("HINCRBY");
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis();
    redis::cmd("XADD")
        .arg(format!("{prefix}:{{{ch}}}:log"))
        .arg(format!("{seq}-0"))
        .arg("at")
        .arg(at.to_string())
        .arg("data")
        .arg(data)
        .exec(&mut redis)
        .expect("XADD");
    format!("{epoch}-{seq}")
}

/// Kills every Redis client of `kind` (`pubsub` or `normal`) but the killer.
fn kill_clients(kind: &str) {
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg(kind)
        .exec(&mut redis())
        .expect("CLIENT KILL");
}

/// Waits until some link subscribes to the live topic of `ch` (again).
async fn topic_subscribed(prefix: &str, ch: &str) {
    within(WAIT, async {
        loop {
            let (_, count): (String, u64) = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(format!("{prefix}:{{{ch}}}:live"))
                .query(&mut redis())
                .expect("PUBSUB NUMSUB");
            if count > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_pubsub_message_is_healed_from_the_stream_before_the_next_event() {
    // Arrange
    let Some(scope) = scope("lost_message").await else {
        return;
    };
    let a = Instance::start(&scope.prefix).await;
    let b = Instance::start(&scope.prefix).await;
    b.publish("room", json!("the channel exists")).await;
    let head = a.head("room").await;
    let mut stream = a.sse("room", Some(&head)).await;

    // Act
    let lost = store_silently(&scope.prefix, "room", "\"lost on the way\"");
    let announced = b.publish("room", json!("announced")).await;
    let ids = stream.ids(2).await;

    // Assert
    assert_eq!(ids, [lost, announced]);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hole_the_stream_can_no_longer_fill_ends_in_a_reset_not_a_stall() {
    // Arrange: two instances keeping 3 events per channel, an SSE follower on A.
    let Some(scope) = scope("unfillable_hole").await else {
        return;
    };
    let short = |figment: rocket::figment::Figment| figment.merge(("hub.history", 3));
    let a = Instance::start_tuned(&scope.prefix, &redis_url(), short).await;
    let b = Instance::start_tuned(&scope.prefix, &redis_url(), short).await;
    b.publish("room", json!("the channel exists")).await;
    let head = a.head("room").await;
    let (target, stop_at) = tokio::sync::watch::channel(None);
    let follower = follow_sse(a.port, "room", head.clone(), stop_at);
    topic_subscribed(&scope.prefix, "room").await;

    // Act: five events only the stream knows, then one announced, whose publish trims the
    // stream to its newest three: A cannot fill the hole before it any more.
    let mut acknowledged = Vec::new();
    for n in 0..5 {
        acknowledged.push(store_silently(&scope.prefix, "room", &n.to_string()));
    }
    let announced = b.publish("room", json!("announced")).await;
    acknowledged.push(announced.clone());
    target.send_replace(Some(announced));
    let seen = within(WAIT, follower).await.expect("the follower");

    // Assert: told of the loss, not stalled and not lied to.
    seen.assert_no_silent_gap(&acknowledged);
    assert!(
        seen.log.iter().any(|item| matches!(item, Item::Reset(_))),
        "a reset: {seen:?}"
    );
    assert!(a.metric("reverse_ajax_backend_resets_total").await >= 1.0);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_pubsub_link_reconnects_and_the_subscriber_misses_nothing() {
    // Arrange: a subscriber on A that has received one event from B.
    let Some(scope) = exclusive_scope("killed_pubsub").await else {
        return;
    };
    let a = Instance::start(&scope.prefix).await;
    let b = Instance::start(&scope.prefix).await;
    let head = a.head("room").await;
    let mut stream = a.sse("room", Some(&head)).await;
    topic_subscribed(&scope.prefix, "room").await;
    let first = b.publish("room", json!(1)).await;
    assert_eq!(stream.ids(1).await, std::slice::from_ref(&first));

    // Act 1: an event only the stream knows, then the link dies. Only the catch-up after the
    // reconnect can deliver it (no later event is published).
    let silent = store_silently(&scope.prefix, "room", "2");
    kill_clients("pubsub");
    let healed = stream.ids(1).await;

    // Act 2: the link dies again and B publishes at once (most likely while A is away);
    // once A is back, both instances publish again.
    kill_clients("pubsub");
    let during = b.publish("room", json!(3)).await;
    topic_subscribed(&scope.prefix, "room").await;
    let after_a = a.publish("room", json!(4)).await;
    let after_b = b.publish("room", json!(5)).await;
    let rest = stream.ids(3).await;

    // Assert: every event once, in order.
    assert_eq!(healed, [silent]);
    assert_eq!(rest, [during, after_a, after_b.clone()]);
    let all = [vec![first], healed, rest].concat();
    assert_eq!(all, ids_on(&head, seq(&head) + 1, seq(&head) + 5));
    let sentinel = b.publish("room", json!("sentinel")).await;
    assert_eq!(
        stream.ids(1).await,
        [sentinel],
        "no duplicate before the next event"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_command_connections_come_back_and_nothing_is_lost() {
    // Arrange
    let Some(scope) = exclusive_scope("killed_commands").await else {
        return;
    };
    let a = Instance::start(&scope.prefix).await;
    let b = Instance::start(&scope.prefix).await;
    let head = a.head("room").await;
    let mut stream = a.sse("room", Some(&head)).await;
    let before = b.publish("room", json!("before")).await;
    assert_eq!(stream.ids(1).await, std::slice::from_ref(&before));

    // Act: both instances lose their command connections; reads (which are retried once on
    // a fresh connection) still answer, and then publishes go through on both.
    kill_clients("normal");
    let read_a = a.head("room").await;
    let read_b = b.head("room").await;
    let on_a = a.publish("room", json!("on A")).await;
    let on_b = b.publish("room", json!("on B")).await;
    let ids = stream.ids(2).await;

    // Assert
    assert_eq!(read_a, before);
    assert_eq!(read_b, before);
    assert_eq!(ids, [on_a, on_b]);
    assert_eq!(
        [vec![before], ids].concat(),
        ids_on(&head, seq(&head) + 1, seq(&head) + 3)
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_redis_answers_503_with_a_message_quickly() {
    // Arrange: an instance whose Redis does not exist (nothing listens on port 1).
    let Some(scope) = scope("unreachable").await else {
        return;
    };
    let dead = Instance::start_with(&scope.prefix, "redis://127.0.0.1:1").await;

    // Act
    let started = Instant::now();
    let (publish, body) = dead.try_publish("room", &json!("lost?")).await;
    let took = started.elapsed();
    let mut poll = dead.request("GET /api/channels/room/events", "").await;
    let poll_body = poll.json().await;
    let mut sse = dead.request("GET /push/room/sse", "").await;
    let sse_body = sse.json().await;

    // Assert
    assert_eq!(publish, 503);
    assert!(
        body["error"].as_str().is_some_and(|m| m.contains("Redis")),
        "the message names the cause: {body}"
    );
    assert!(
        took < Duration::from_secs(3),
        "answered in {took:?}, not hung"
    );
    assert_eq!(poll.code, 503, "{poll_body}");
    assert_eq!(sse.code, 503, "{sse_body}");
    assert!(sse_body["error"].is_string());
    dead.stop().await;
}
