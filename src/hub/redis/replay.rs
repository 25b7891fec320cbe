//! Replay from a channel's stream: `read.lua` and the cursor rule of DESIGN.md over its answer
//! (unknown epoch, trimmed away by length or age, ahead of the head), as in the memory backend.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Shared, unavailable};
use crate::hub::{Channel, Event, EventId, HubError};

/// One answer of `read.lua`.
pub(super) struct Snapshot {
    pub(super) epoch: String,
    pub(super) head: u64,
    /// The Redis clock, in milliseconds.
    pub(super) now: i64,
    pub(super) entries: Vec<(u64, i64, String)>,
}

/// Which entries `read.lua` returns.
pub(super) enum Range<'a> {
    Head,
    After(&'a EventId),
    Last(usize),
}

impl Shared {
    /// Runs `read.lua`. Reads change nothing a retry could repeat, so a command that fails
    /// on a connection Redis has just dropped is tried once more on a fresh one.
    pub(super) async fn snapshot(
        &self,
        channel: &Channel,
        range: Range<'_>,
    ) -> Result<Snapshot, HubError> {
        let (mode, epoch, n) = match range {
            Range::Head => ("head", "", 0),
            Range::After(id) => ("after", id.epoch.as_str(), id.seq),
            Range::Last(limit) => ("last", "", limit as u64),
        };
        let mut invocation = self.read.prepare_invoke();
        invocation
            .key(self.meta_key(channel))
            .key(self.log_key(channel))
            .arg(EventId::new_epoch())
            .arg(self.key_ttl_ms())
            .arg(mode)
            .arg(epoch)
            .arg(n)
            .arg(self.config.history);
        let answer: (String, u64, i64, Vec<(u64, i64, String)>) =
            match self.invoke(&invocation).await {
                Ok(answer) => answer,
                Err(_) => self.invoke(&invocation).await?,
            };
        let (epoch, head, now, entries) = answer;
        Ok(Snapshot {
            epoch,
            head,
            now,
            entries,
        })
    }

    /// The events of `entries` that are still young enough to replay, with their envelopes.
    pub(super) fn events(
        &self,
        channel: &Channel,
        snap: &Snapshot,
    ) -> Result<Vec<Arc<Event>>, HubError> {
        let cutoff = snap.now - i64::try_from(self.config.history_ttl * 1000).unwrap_or(i64::MAX);
        snap.entries
            .iter()
            .filter(|(_, at, _)| *at >= cutoff)
            .map(|(seq, at, data)| envelope(channel, &snap.epoch, *seq, *at, data).map(Arc::new))
            .collect()
    }

    /// The cursor rule of DESIGN.md over one snapshot: `(reset, events)`.
    pub(super) fn after(
        &self,
        channel: &Channel,
        since: Option<&EventId>,
        snap: &Snapshot,
    ) -> Result<(bool, Vec<Arc<Event>>), HubError> {
        let Some(since) = since else {
            return Ok((false, Vec::new()));
        };
        if since.epoch != snap.epoch || since.seq > snap.head {
            return Ok((true, Vec::new()));
        }
        if since.seq == snap.head {
            return Ok((false, Vec::new()));
        }
        let events = self.events(channel, snap)?;
        // Trimmed by length or by age: the next event the client needs is gone.
        if events.len() != snap.entries.len()
            || events.first().is_none_or(|e| e.id.seq != since.seq + 1)
        {
            return Ok((true, Vec::new()));
        }
        Ok((false, events))
    }
}

/// Builds an event's envelope from what Redis stored.
pub(super) fn envelope(
    channel: &Channel,
    epoch: &str,
    seq: u64,
    at: i64,
    data: &str,
) -> Result<Event, HubError> {
    let data: Value = serde_json::from_str(data)
        .map_err(|e| unavailable(&format!("Redis holds an unreadable event: {e}")))?;
    let at = DateTime::<Utc>::from_timestamp_millis(at)
        .ok_or_else(|| unavailable("Redis holds an event with an impossible time"))?;
    Ok(Event {
        id: EventId::new(epoch, seq),
        channel: channel.clone(),
        data,
        at,
    })
}
