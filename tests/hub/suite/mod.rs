//! The backend-independent hub suite, with the helpers its tests share.

pub mod concurrency;
pub mod keys;
pub mod reads;
pub mod resets;
pub mod subscriptions;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reverse_ajax::config::HubConfig;
use reverse_ajax::hub::{Batch, Channel, Event, EventId, Hub};
use serde_json::json;

/// How long any single wait on the hub may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// A channel name no other test (in this run or an earlier one against a shared backend)
/// has used.
pub fn fresh(prefix: &str) -> Channel {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let name = format!(
        "t.{prefix}.{millis}.{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    Channel::parse(&name).expect("a valid channel name")
}

/// The default configuration with another history length.
pub fn with_history(history: usize) -> HubConfig {
    HubConfig {
        history,
        ..HubConfig::default()
    }
}

/// The channel's current head (creating the channel if needed).
pub async fn head(hub: &Hub, channel: &Channel) -> EventId {
    let batch = hub.read(channel, None).await.expect("read");
    assert!(batch.events.is_empty() && batch.reset.is_none());
    batch.next
}

/// Publishes `{"n": 0..count}` and returns the stored events.
pub async fn publish_n(hub: &Hub, channel: &Channel, count: usize) -> Vec<Arc<Event>> {
    let mut events = Vec::with_capacity(count);
    for n in 0..count {
        events.push(
            hub.publish(channel, json!({ "n": n }).into())
                .await
                .expect("publish"),
        );
    }
    events
}

/// The sequence numbers of a batch's events.
pub fn seqs(batch: &Batch) -> Vec<u64> {
    batch.events.iter().map(|e| e.id.seq).collect()
}

/// An id on the channel's epoch with another sequence number.
pub fn at(id: &EventId, seq: u64) -> EventId {
    EventId::new(&id.epoch, seq)
}
