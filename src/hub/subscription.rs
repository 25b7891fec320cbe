//! A live subscription: the replayed part first, then live events, never a gap or a duplicate.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use super::{Event, EventId};

/// Why a subscription stopped yielding events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionEnd {
    /// The subscriber fell too far behind (its queue is bounded) or an event went missing on
    /// the way. It can resume from its last id with a new subscription.
    Lagged,
    /// The hub is gone (shutting down).
    Closed,
}

/// A stream of events on one channel, built by a backend from a replayed backlog and a live
/// receiver. Whatever the backend, live events already covered by the backlog are dropped,
/// and any hole in the sequence ends the subscription instead of passing in silence.
pub struct Subscription {
    reset: bool,
    epoch: String,
    last_seq: u64,
    backlog: VecDeque<Arc<Event>>,
    live: broadcast::Receiver<Arc<Event>>,
}

impl Subscription {
    /// `live` must have been subscribed before `backlog` was read, so that nothing published
    /// in between is missed; `last_seq` is the sequence number the subscriber already has.
    pub fn new(
        reset: bool,
        epoch: String,
        last_seq: u64,
        backlog: Vec<Arc<Event>>,
        live: broadcast::Receiver<Arc<Event>>,
    ) -> Subscription {
        Subscription {
            reset,
            epoch,
            last_seq,
            backlog: backlog.into(),
            live,
        }
    }

    /// True when the requested cursor could not be honoured and the stream starts at the head.
    pub fn reset(&self) -> bool {
        self.reset
    }

    /// The id of the last event this subscription yielded (or its starting point).
    pub fn cursor(&self) -> EventId {
        EventId::new(&self.epoch, self.last_seq)
    }

    /// Waits for the next event in order.
    pub async fn next(&mut self) -> Result<Arc<Event>, SubscriptionEnd> {
        if let Some(event) = self.backlog.pop_front() {
            self.last_seq = event.id.seq;
            return Ok(event);
        }
        loop {
            let event = match self.live.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(_)) => return Err(SubscriptionEnd::Lagged),
                Err(RecvError::Closed) => return Err(SubscriptionEnd::Closed),
            };
            if event.id.epoch != self.epoch {
                // The channel's history was replaced: this cursor means nothing any more.
                return Err(SubscriptionEnd::Lagged);
            }
            if event.id.seq <= self.last_seq {
                continue; // already delivered by the backlog
            }
            if event.id.seq != self.last_seq + 1 {
                return Err(SubscriptionEnd::Lagged);
            }
            self.last_seq = event.id.seq;
            return Ok(event);
        }
    }
}
