//! Redis losing or rolling back history under live clients: restarted (from an append-only file
//! or from an older snapshot) or flushed. Whatever happens, no id ever names two events, every
//! acknowledged event reaches the clients or a reset tells them it will not, and every event
//! acknowledged after the fault reaches them: the reset continues from the start of what the
//! new history holds, not from its head.

use serde_json::json;
use tokio::sync::watch;

use crate::common::within;
use crate::follower::{Seen, follow_long_poll, follow_sse};
use crate::harness::{Instance, WAIT};
use crate::private::{Persistence, PrivateRedis};
use crate::support::unique_prefix;

/// The channel of these tests.
pub const ROOM: &str = "room";

/// Publishes `count` events through `instance`, each retried until it is stored (Redis may
/// be on its way back), and returns their ids. A refusal answers 503 or 504, never anything
/// else.
pub async fn publish_stored(instance: &Instance, from: usize, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in from..from + count {
        let id = within(WAIT, async {
            loop {
                let (code, answer) = instance.try_publish(ROOM, &json!({ "n": n })).await;
                match code {
                    201 => return answer["id"].as_str().expect("an id").to_owned(),
                    503 | 504 => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                    other => panic!("publishing {n} answered {other}: {answer}"),
                }
            }
        })
        .await;
        ids.push(id);
    }
    ids
}

/// Two instances on `redis` (the clients on one, the publisher on the other) with an SSE
/// follower and a long-poll follower: 100 events, `before_fault`, 100 more, `fault`, 100 more.
/// Returns the acknowledged ids and what each follower saw.
async fn under_fault(
    redis: &mut PrivateRedis,
    before_fault: impl AsyncFnOnce(&mut PrivateRedis),
    fault: impl AsyncFnOnce(&mut PrivateRedis),
) -> (Vec<String>, Seen, Seen) {
    let prefix = unique_prefix("history_loss");
    let clients = Instance::start_with(&prefix, &redis.url()).await;
    let publisher = Instance::start_with(&prefix, &redis.url()).await;
    let start = clients.head(ROOM).await;
    let (target, stop_at) = watch::channel(None);
    let sse = follow_sse(clients.port, ROOM, start.clone(), stop_at.clone());
    let poll = follow_long_poll(clients.port, ROOM, start, stop_at);

    let mut acknowledged = publish_stored(&publisher, 0, 100).await;
    before_fault(redis).await;
    acknowledged.extend(publish_stored(&publisher, 100, 100).await);
    fault(redis).await;
    acknowledged.extend(publish_stored(&publisher, 200, 100).await);
    target.send_replace(acknowledged.last().cloned());
    // One more event, so that a follower already past the target (after a reset) hears of it.
    publish_stored(&publisher, 300, 1).await;

    let sse = within(WAIT, sse).await.expect("the SSE follower");
    let poll = within(WAIT, poll).await.expect("the long-poll follower");
    clients.stop().await;
    publisher.stop().await;
    (acknowledged, sse, poll)
}

/// No two acknowledged events share an id.
pub fn assert_ids_unique(acknowledged: &[String]) {
    let mut sorted = acknowledged.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        acknowledged.len(),
        "an id was handed out twice: {acknowledged:?}"
    );
}

/// No two acknowledged events share an id, neither follower skipped one in silence, and both
/// received every event acknowledged after the fault (the last 100).
pub fn assert_honest(acknowledged: &[String], sse: &Seen, poll: &Seen) {
    assert_ids_unique(acknowledged);
    sse.assert_no_silent_gap(acknowledged);
    poll.assert_no_silent_gap(acknowledged);
    let after_fault = &acknowledged[200..];
    sse.assert_received_all(after_fault);
    poll.assert_received_all(after_fault);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restore_from_an_older_snapshot_reuses_no_id_and_loses_nothing_in_silence() {
    // Arrange: a Redis that keeps only what SAVE wrote.
    let Some(mut redis) = PrivateRedis::start("history_loss", Persistence::Snapshot).await else {
        return;
    };

    // Act: SAVE after 100 events, a crash after 200, and back from the older file.
    let (acknowledged, sse, poll) = under_fault(
        &mut redis,
        async |redis| redis.command("SAVE"),
        async |redis| redis.restart().await,
    )
    .await;

    // Assert
    assert_honest(&acknowledged, &sse, &poll);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_that_keeps_everything_still_loses_nothing_in_silence() {
    // Arrange: a Redis that writes every command to its append-only file before answering.
    let Some(mut redis) = PrivateRedis::start("history_loss", Persistence::AppendOnly).await else {
        return;
    };

    // Act
    let (acknowledged, sse, poll) = under_fault(
        &mut redis,
        async |_| {},
        async |redis| redis.restart().await,
    )
    .await;

    // Assert
    assert_honest(&acknowledged, &sse, &poll);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flushall_reuses_no_id_and_loses_nothing_in_silence() {
    // Arrange
    let Some(mut redis) = PrivateRedis::start("history_loss", Persistence::Snapshot).await else {
        return;
    };

    // Act
    let (acknowledged, sse, poll) = under_fault(
        &mut redis,
        async |_| {},
        async |redis| redis.command("FLUSHALL"),
    )
    .await;

    // Assert
    assert_honest(&acknowledged, &sse, &poll);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_flush_an_old_cursor_is_reset_to_the_start_of_the_new_history_and_gets_all_of_it() {
    // Arrange: three events, a flush, then five events of a new history that nobody has
    // read yet.
    let Some(redis) = PrivateRedis::start("history_loss", Persistence::Snapshot).await else {
        return;
    };
    let app = Instance::start_with(&unique_prefix("history_loss"), &redis.url()).await;
    let old = publish_stored(&app, 0, 3).await;
    redis.command("FLUSHALL");
    let new = publish_stored(&app, 3, 5).await;
    let (epoch, _) = new[0].rsplit_once('-').expect("an id");
    let start = format!("{epoch}-0");

    // Act: a stream, a poll and a long poll come back with the old cursor.
    let mut sse = app.sse(ROOM, Some(&old[2])).await;
    let reset = sse.next().await;
    let poll = app
        .request(
            &format!("GET /api/channels/{ROOM}/events?since={}", old[2]),
            "",
        )
        .await
        .json()
        .await;
    let long_poll = app
        .request(&format!("GET /push/{ROOM}/long-poll?since={}", old[2]), "")
        .await
        .json()
        .await;

    // Assert: each says why it reset, and delivers the whole new history after the reset.
    assert_eq!(reset.kind.as_deref(), Some("reset"), "{reset:?}");
    assert_eq!(reset.id.as_deref(), Some(start.as_str()));
    let data: serde_json::Value = serde_json::from_str(&reset.data).expect("JSON");
    assert_eq!(data, json!({"next": start, "reason": "unknown_epoch"}));
    assert_eq!(sse.ids(5).await, new);
    for answer in [poll, long_poll] {
        assert_eq!(answer["reset"], json!(true), "{answer}");
        assert_eq!(answer["reset_reason"], json!("unknown_epoch"), "{answer}");
        let ids: Vec<&str> = answer["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["id"].as_str().expect("an id"))
            .collect();
        assert_eq!(ids, new, "{answer}");
        assert_eq!(answer["next"], json!(new[4]), "{answer}");
    }
    app.stop().await;
}
