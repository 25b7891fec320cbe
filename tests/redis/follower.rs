//! Clients that stay with a channel through anything: an SSE stream and a long poll that
//! reconnect from their last id whenever an answer ends or fails, and write down, in order,
//! every event and every reset they are given. [`Seen::assert_no_silent_gap`] is the promise
//! of the event model: each acknowledged event is received, or a reset tells the client that
//! it will not be.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::harness::{open_sse, request_on, seq};

/// What a follower was given, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An event: its id and its data.
    Event(String, Value),
    /// A reset, with the cursor it continued from.
    Reset(String),
}

/// Everything one follower was given.
#[derive(Debug, Default)]
pub struct Seen {
    pub log: Vec<Item>,
}

/// The id the followers stop at, once the test knows it. A follower looks at it after each
/// answer, so the test publishes one more event after setting it.
pub type Target = watch::Receiver<Option<String>>;

impl Seen {
    /// The data of every event received, in order.
    pub fn data(&self) -> Vec<Value> {
        self.log
            .iter()
            .filter_map(|item| match item {
                Item::Event(_, data) => Some(data.clone()),
                Item::Reset(_) => None,
            })
            .collect()
    }

    /// Fails unless no id was received twice, and every id of `acknowledged` (in the order
    /// they were published) was received or has a reset between the received events before
    /// and after it.
    pub fn assert_no_silent_gap(&self, acknowledged: &[String]) {
        let mut at = HashMap::new();
        for (index, item) in self.log.iter().enumerate() {
            if let Item::Event(id, _) = item {
                assert!(
                    at.insert(id.as_str(), index).is_none(),
                    "{id} came twice: {self:?}"
                );
            }
        }
        for (n, id) in acknowledged.iter().enumerate() {
            if at.contains_key(id.as_str()) {
                continue;
            }
            let before = acknowledged[..n]
                .iter()
                .filter_map(|e| at.get(e.as_str()))
                .max();
            let after = acknowledged[n + 1..]
                .iter()
                .filter_map(|e| at.get(e.as_str()))
                .min();
            let (from, to) = (
                before.map_or(0, |i| i + 1),
                after.copied().unwrap_or(self.log.len()),
            );
            let told = self.log[from..to]
                .iter()
                .any(|item| matches!(item, Item::Reset(_)));
            assert!(told, "{id} was lost without a reset: {self:?}");
        }
    }

    /// Fails unless every id of `ids` was received: what the history still held when the
    /// follower came back is delivered after its reset, not skipped.
    pub fn assert_received_all(&self, ids: &[String]) {
        let missing: Vec<&String> = ids
            .iter()
            .filter(|id| {
                !self
                    .log
                    .iter()
                    .any(|item| matches!(item, Item::Event(got, _) if got == *id))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {} events were never delivered: {missing:?}; {self:?}",
            missing.len(),
            ids.len()
        );
    }

    /// True once `target` was received, or a reset moved past it.
    fn reached(&self, target: &str) -> bool {
        let (epoch, _) = target.rsplit_once('-').expect("an id");
        self.log.iter().any(|item| match item {
            Item::Event(id, _) => id == target,
            Item::Reset(next) => next.starts_with(&format!("{epoch}-")) && seq(next) >= seq(target),
        })
    }

    fn done(&self, target: &Target) -> bool {
        target.borrow().as_deref().is_some_and(|t| self.reached(t))
    }
}

/// The pause before asking again after a refused or failed request (Redis may be down).
const AGAIN: Duration = Duration::from_millis(50);

/// Follows `ch` on the instance at `port` over SSE from `start` until `target`.
pub fn follow_sse(port: u16, ch: &'static str, start: String, target: Target) -> JoinHandle<Seen> {
    tokio::spawn(async move {
        let (mut seen, mut last) = (Seen::default(), start);
        while !seen.done(&target) {
            let Some(mut stream) = open_sse(port, ch, Some(&last)).await else {
                tokio::time::sleep(AGAIN).await;
                continue;
            };
            // Until the stream ends (a subscriber cut off as lagged resumes from `last`).
            while let Some(event) = stream.try_next().await {
                let id = event.id.expect("every message has an id");
                let item = match event.kind.as_deref() {
                    Some("reset") => Item::Reset(id.clone()),
                    Some(other) => panic!("an unexpected `{other}` event"),
                    None => {
                        let envelope: Value = serde_json::from_str(&event.data).expect("JSON");
                        Item::Event(id.clone(), envelope["data"].clone())
                    }
                };
                seen.log.push(item);
                last = id;
                if seen.done(&target) {
                    break;
                }
            }
        }
        seen
    })
}

/// Follows `ch` on the instance at `port` by long polling from `start` until `target`.
pub fn follow_long_poll(
    port: u16,
    ch: &'static str,
    start: String,
    target: Target,
) -> JoinHandle<Seen> {
    tokio::spawn(async move {
        let (mut seen, mut cursor) = (Seen::default(), start);
        while !seen.done(&target) {
            let mut response = request_on(
                port,
                &format!("GET /push/{ch}/long-poll?since={cursor}"),
                "",
            )
            .await;
            if response.code != 200 {
                tokio::time::sleep(AGAIN).await;
                continue;
            }
            let answer = response.json().await;
            let next = answer["next"].as_str().expect("next").to_owned();
            if answer["reset"] == Value::Bool(true) {
                seen.log.push(Item::Reset(next.clone()));
            }
            for event in answer["events"].as_array().expect("events") {
                let id = event["id"].as_str().expect("an id").to_owned();
                seen.log.push(Item::Event(id, event["data"].clone()));
            }
            cursor = next;
        }
        seen
    })
}
