//! Publishing while a fault strikes, and the promises checked afterwards: no id names two
//! events; every acknowledged event reached each follower or a reset stands between what it
//! received before and after it; an attempt answered 503 was never stored.
//!
//! Every attempt carries data of its own (`{"n": <event>, "try": <attempt>}`), so the data
//! of an attempt answered 503 can be looked for in what the followers received and in what
//! the history holds afterwards.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::within;
use crate::follower::{Item, Seen};
use crate::harness::{Instance, WAIT};
use crate::history_loss::{ROOM, assert_ids_unique};

/// The pause before trying again after a 503 or a 504.
const AGAIN: Duration = Duration::from_millis(20);

/// What one publisher was answered.
#[derive(Debug, Default)]
pub struct Answers {
    /// The ids of the events stored (201), in the order they were acknowledged.
    pub acknowledged: Vec<String>,
    /// The data each of those ids was acknowledged for.
    pub stored: HashMap<String, Value>,
    /// The data of each attempt answered 503: none of it may ever be stored.
    pub refused: Vec<Value>,
    /// How many attempts were answered 504 (stored or not, the publisher cannot tell).
    pub unknown: usize,
}

impl Answers {
    /// Publishes event `n` through `instance`, trying again after each 503 or 504 with new
    /// data, until one attempt is stored.
    async fn publish(&mut self, instance: &Instance, n: usize) {
        let stored = within(WAIT, async {
            for attempt in 0.. {
                let data = json!({ "n": n, "try": attempt });
                match instance.try_publish(ROOM, &data).await {
                    (201, answer) => {
                        let id = answer["id"].as_str().expect("an id").to_owned();
                        self.stored.insert(id.clone(), data);
                        return id;
                    }
                    (503, _) => self.refused.push(data),
                    (504, _) => self.unknown += 1,
                    (other, answer) => panic!("publishing {data} answered {other}: {answer}"),
                }
                tokio::time::sleep(AGAIN).await;
            }
            unreachable!("attempts never run out")
        })
        .await;
        self.acknowledged.push(stored);
    }

    /// Publishes `count` events numbered from `from`, one after the other.
    pub async fn publish_all(&mut self, instance: &Instance, from: usize, count: usize) {
        for n in from..from + count {
            self.publish(instance, n).await;
        }
    }

    /// Publishes events numbered from `from` on through `instance`, as fast as the answers
    /// come, on a task of their own while `fault` runs here, until the fault is over and at
    /// least `min` were stored. Returns the number of the next event.
    pub async fn publish_during(
        &mut self,
        instance: &Arc<Instance>,
        (from, min): (usize, usize),
        fault: impl Future<Output = ()>,
    ) -> usize {
        let over = Arc::new(AtomicBool::new(false));
        let burst = tokio::spawn({
            let (instance, over) = (Arc::clone(instance), Arc::clone(&over));
            async move {
                let mut answers = Answers::default();
                let mut n = from;
                while !over.load(Ordering::Acquire) || n < from + min {
                    answers.publish(&instance, n).await;
                    n += 1;
                }
                (answers, n)
            }
        });
        fault.await;
        over.store(true, Ordering::Release);
        let (answers, next) = within(WAIT, burst).await.expect("the burst of publishes");
        self.acknowledged.extend(answers.acknowledged);
        self.stored.extend(answers.stored);
        self.refused.extend(answers.refused);
        self.unknown += answers.unknown;
        next
    }
}

/// The data of every event a read of the channel on `instance` after `since` gives: what the
/// history holds (after a reset, what the new history holds).
pub async fn history(instance: &Instance, since: &str) -> Vec<Value> {
    let mut response = instance
        .request(
            &format!("GET /api/channels/{ROOM}/events?since={since}"),
            "",
        )
        .await;
    assert_eq!(response.code, 200);
    let answer = response.json().await;
    answer["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["data"].clone())
        .collect()
}

/// The three promises: no id was acknowledged twice or names two events (what the followers
/// received under it is what was acknowledged for it); each follower received every
/// acknowledged event or a reset between, and every one of `after_fault`; no attempt answered
/// 503 reached a follower or the history.
pub fn assert_promises(
    answers: &Answers,
    after_fault: &[String],
    followers: &[Seen],
    history: &[Value],
) {
    let acknowledged = &answers.acknowledged;
    assert_ids_unique(acknowledged);
    // Whatever a follower received under an id is what was stored under it, on every
    // instance alike.
    let mut named = answers.stored.clone();
    for seen in followers {
        for item in &seen.log {
            if let Item::Event(id, data) = item {
                let first = named.entry(id.clone()).or_insert_with(|| data.clone());
                assert_eq!(first, data, "{id} names two events");
            }
        }
    }
    for seen in followers {
        seen.assert_no_silent_gap(acknowledged);
        seen.assert_received_all(after_fault);
        let data = seen.data();
        for refused in &answers.refused {
            assert!(
                !data.contains(refused),
                "{refused} was answered 503 but delivered"
            );
        }
    }
    for refused in &answers.refused {
        assert!(
            !history.contains(refused),
            "{refused} was answered 503 but stored"
        );
    }
}
