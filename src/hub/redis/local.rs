//! The local side of the fan-out: one broadcast channel per channel that has subscribers in
//! this instance, and the bookkeeping that tells a duplicate from a hole.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast;

use crate::hub::{Channel, Event, HubError};

/// The local broadcast channels, by channel.
pub(super) struct Local {
    queue: usize,
    max_channels: usize,
    channels: Mutex<HashMap<Channel, Entry>>,
}

struct Entry {
    live: broadcast::Sender<Arc<Event>>,
    epoch: Option<String>,
    /// The last seq broadcast on `live`.
    last: Option<u64>,
    /// Before anything was broadcast: the lowest head a subscriber read its backlog up to,
    /// the point from which a hole must be healed.
    floor: Option<u64>,
}

impl Local {
    pub(super) fn new(queue: usize, max_channels: usize) -> Local {
        Local {
            queue,
            max_channels,
            channels: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Channel, Entry>> {
        // Every change is a single field write, so a poisoned table is still consistent.
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// A receiver of the channel's live events, creating the local entry if needed.
    pub(super) fn join(
        &self,
        channel: &Channel,
    ) -> Result<broadcast::Receiver<Arc<Event>>, HubError> {
        let mut table = self.lock();
        if !table.contains_key(channel) && table.len() >= self.max_channels {
            table.retain(|_, entry| entry.live.receiver_count() > 0);
            if table.len() >= self.max_channels {
                return Err(HubError::Full);
            }
        }
        let entry = table.entry(channel.clone()).or_insert_with(|| Entry {
            live: broadcast::channel(self.queue).0,
            epoch: None,
            last: None,
            floor: None,
        });
        Ok(entry.live.subscribe())
    }

    /// Records that a subscriber joined and has every event up to `head` of `epoch`.
    pub(super) fn settle(&self, channel: &Channel, epoch: &str, head: u64) {
        let mut table = self.lock();
        let Some(entry) = table.get_mut(channel) else {
            return;
        };
        if entry.epoch.as_deref() != Some(epoch) {
            // A new history (or the first subscriber): older subscribers end at the next event.
            entry.epoch = Some(epoch.to_owned());
            entry.last = None;
            entry.floor = Some(head);
        } else if entry.last.is_none() {
            entry.floor = Some(entry.floor.map_or(head, |f| f.min(head)));
        }
    }

    /// Drops every entry, which ends every local subscription.
    pub(super) fn close_all(&self) {
        self.lock().clear();
    }

    /// Drops entries nobody listens to; returns `(channel, epoch, last or floor)` of the rest.
    pub(super) fn active(&self) -> Vec<(Channel, String, u64)> {
        let mut table = self.lock();
        table.retain(|_, entry| entry.live.receiver_count() > 0);
        table
            .iter()
            .filter_map(|(channel, e)| {
                let from = e.last.or(e.floor)?;
                Some((channel.clone(), e.epoch.clone()?, from))
            })
            .collect()
    }

    /// Where a hole before `seq` starts, or `None` when the event must not be broadcast
    /// (nobody listens here, or it is a duplicate).
    pub(super) fn hole_before(&self, channel: &Channel, epoch: &str, seq: u64) -> Option<u64> {
        let mut table = self.lock();
        let entry = table.get_mut(channel)?;
        if entry.live.receiver_count() == 0 {
            table.remove(channel);
            return None;
        }
        if entry.epoch.as_deref() != Some(epoch) {
            entry.epoch = Some(epoch.to_owned());
            entry.last = None;
            entry.floor = None;
        }
        match (entry.last, entry.floor) {
            (Some(last), _) if seq <= last => None,
            (Some(last), _) => Some(last),
            (None, Some(floor)) if floor < seq => Some(floor),
            (None, _) => Some(seq.saturating_sub(1)),
        }
    }

    /// Broadcasts `event` unless it is not the channel's next one.
    pub(super) fn send(&self, event: Arc<Event>) {
        let mut table = self.lock();
        let Some(entry) = table.get_mut(&event.channel) else {
            return;
        };
        let fresh = entry.last.is_none_or(|last| event.id.seq > last);
        if entry.epoch.as_deref() == Some(event.id.epoch.as_str()) && fresh {
            entry.last = Some(event.id.seq);
            // An error only means the last receiver has just gone; upkeep drops the entry.
            let _receivers = entry.live.send(event);
        }
    }
}
