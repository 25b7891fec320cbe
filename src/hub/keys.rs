//! The memory backend's idempotency keys: which event each key of each channel stored, until
//! the key's time is up. (The Redis backend keeps them in Redis, inside its publish script.)

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use super::{Channel, EventId, IdempotencyKey};

/// What one remembered key costs besides its text, for the byte bound.
const ENTRY: usize = 96;

/// Keys by channel, oldest first in `order` (every key lives as long as the others).
#[derive(Default)]
pub(super) struct Keys {
    ids: HashMap<(Channel, Box<str>), EventId>,
    order: VecDeque<(Instant, Channel, Box<str>)>,
}

impl Keys {
    /// The event `key` stored on `channel`, if it is still remembered. Forgets the keys whose
    /// time is up first; returns them as freed bytes too.
    pub(super) fn find(
        &mut self,
        channel: &Channel,
        key: &IdempotencyKey,
    ) -> (Option<EventId>, usize) {
        let now = Instant::now();
        let mut freed = 0;
        while let Some((until, _, _)) = self.order.front()
            && *until <= now
        {
            if let Some((_, channel, key)) = self.order.pop_front() {
                freed += ENTRY + key.len();
                self.ids.remove(&(channel, key));
            }
        }
        let id = self
            .ids
            .get(&(channel.clone(), key.as_str().into()))
            .cloned();
        (id, freed)
    }

    /// Remembers that `key` stored event `id` on `channel`; returns the bytes that costs.
    pub(super) fn remember(
        &mut self,
        channel: &Channel,
        key: &IdempotencyKey,
        id: &EventId,
    ) -> usize {
        let text: Box<str> = key.as_str().into();
        self.order
            .push_back((Instant::now() + key.ttl(), channel.clone(), text.clone()));
        self.ids.insert((channel.clone(), text), id.clone());
        ENTRY + key.as_str().len()
    }
}
