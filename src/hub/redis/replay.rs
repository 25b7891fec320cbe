//! Replay from a channel's stream: `read.lua`, then the cursor rule of [`cursor::start`] over
//! its answer (unknown epoch, trimmed away by length, bytes or age, ahead of the head), the
//! same rule the memory backend applies. For a cursor of another epoch `read.lua` returns the
//! whole stream, which a reset then replays.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Shared, unavailable};
use crate::hub::cursor::{self, Start};
use crate::hub::{Channel, Event, EventId, HubError, Payload};

/// One answer of `read.lua`.
pub(super) struct Snapshot {
    pub(super) epoch: Arc<str>,
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
            Range::After(id) => ("after", &*id.epoch, id.seq),
            Range::Last(limit) => ("last", "", limit as u64),
        };
        let mut invocation = self.read.prepare_invoke();
        self.site_keys(&mut invocation, channel)
            .arg(EventId::new_epoch())
            .arg(self.key_ttl_ms())
            .arg(mode)
            .arg(epoch)
            .arg(n)
            .arg(self.config.history)
            .arg(super::bucket(channel));
        // A read that did not come back can be asked again: it is an outage, not an unknown.
        let answer: (String, u64, i64, Vec<(u64, i64, String)>) =
            match self.invoke(&invocation).await {
                Ok(answer) => answer,
                Err(_) => self.invoke(&invocation).await.map_err(|e| match e {
                    HubError::Unknown(why) => unavailable(&why),
                    known => known,
                })?,
            };
        let (epoch, head, now, entries) = answer;
        Ok(Snapshot {
            epoch: Arc::from(epoch),
            head,
            now,
            entries,
        })
    }

    /// The events of `snap` that are still young enough to replay, with their envelopes.
    pub(super) fn events(
        &self,
        channel: &Channel,
        snap: &Snapshot,
    ) -> Result<Vec<Arc<Event>>, HubError> {
        let cutoff = snap.now - i64::try_from(self.config.history_ttl_ms).unwrap_or(i64::MAX);
        snap.entries
            .iter()
            .filter(|(_, at, _)| *at >= cutoff)
            .map(|(seq, at, data)| {
                envelope(channel, EventId::on(&snap.epoch, *seq), *at, data).map(Arc::new)
            })
            .collect()
    }

    /// The cursor rule over one snapshot taken after `since`: where to start, and the events
    /// to replay.
    pub(super) fn after(
        &self,
        channel: &Channel,
        since: Option<&EventId>,
        snap: &Snapshot,
    ) -> Result<(Start, Vec<Arc<Event>>), HubError> {
        // `read.lua` returned what follows the cursor (the whole stream for another epoch's).
        let mut events = match since {
            Some(_) => self.events(channel, snap)?,
            None => Vec::new(),
        };
        // The stream is in time order: the first young entry is the oldest replayable one
        // (of those after the cursor, which is all the rule needs).
        let oldest = events.first().map_or(snap.head + 1, |e| e.id.seq);
        let start = cursor::start(since, &snap.epoch, snap.head, oldest);
        let after = start.after(snap.head);
        events.retain(|e| e.id.seq > after);
        Ok((start, events))
    }
}

/// Builds an event's envelope from what Redis stored, checking it on the way: a value
/// written to Redis by anything else must not reach a client as a broken frame. Only its
/// JSON syntax is checked, not the publish rule: what an older version stored is still
/// delivered, and pages show it as text.
pub(super) fn envelope(
    channel: &Channel,
    id: EventId,
    at: i64,
    data: &str,
) -> Result<Event, HubError> {
    let data = Payload::stored(data)
        .map_err(|e| unavailable(&format!("Redis holds an unreadable event: {e}")))?;
    let at = DateTime::<Utc>::from_timestamp_millis(at)
        .ok_or_else(|| unavailable("Redis holds an event with an impossible time"))?;
    Ok(Event::new(id, channel.clone(), &data, at))
}
