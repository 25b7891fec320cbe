//! A live subscription: a replayed backlog first (when the backend has one), then the events of
//! the channel's feed after the subscriber's cursor, never a gap and never a duplicate.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Poll, Waker};

use super::feed::{Feed, Member};
use super::waiters::Place;
use super::{Channel, Event, EventId, ResetReason};

/// Why a subscription stopped yielding events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionEnd {
    /// The subscriber fell too far behind, or the channel's history was replaced. It can
    /// resume from its last id with a new subscription (which says `reset` if it must).
    Lagged,
    /// The hub is gone (shutting down).
    Closed,
}

/// A cursor on one channel's feed.
///
/// The subscription holds no events of its own beyond a backend's replayed backlog: it reads
/// the feed in place, taking everything after its cursor at once when it is behind, and ends
/// as [`SubscriptionEnd::Lagged`] when it falls more than `max_lag` live events behind the
/// head (what it replays on joining does not count) or the event it needs next is no longer
/// in the feed.
pub struct Subscription {
    member: Member,
    reset: Option<ResetReason>,
    epoch: Arc<str>,
    cursor: u64,
    /// The head when the subscription began: events up to it are replay, not lag.
    joined: u64,
    backlog: VecDeque<Arc<Event>>,
    max_lag: u64,
    /// Its slot among the feed's waiters.
    place: Place,
}

impl Subscription {
    /// `member` must have joined the feed before `backlog` was read, so that nothing published
    /// in between is missed; `cursor` is the sequence number the subscriber has before the
    /// backlog and `head` the channel's head when it joined.
    pub(super) fn new(
        member: Member,
        reset: Option<ResetReason>,
        (epoch, cursor, head): (Arc<str>, u64, u64),
        backlog: Vec<Arc<Event>>,
        max_lag: usize,
    ) -> Subscription {
        Subscription {
            member,
            reset,
            epoch,
            cursor,
            joined: head,
            backlog: backlog.into(),
            max_lag: max_lag as u64,
            place: Place::default(),
        }
    }

    /// A subscription that ends at once, for a hub that has shut down.
    pub(super) fn closed(channel: &Channel) -> Subscription {
        let feed = Arc::new(Feed::closed(channel.clone()));
        Subscription::new(feed.join(), None, (Arc::from(""), 0, 0), Vec::new(), 0)
    }

    /// Why the requested cursor could not be honoured (the stream then says `reset` first),
    /// when it could not.
    pub fn reset(&self) -> Option<ResetReason> {
        self.reset
    }

    /// The id of the last event this subscription yielded (or its starting point).
    pub fn cursor(&self) -> EventId {
        EventId::on(&self.epoch, self.cursor)
    }

    /// Waits for the next event in order.
    pub async fn next(&mut self) -> Result<Arc<Event>, SubscriptionEnd> {
        let mut one = Vec::with_capacity(1);
        self.wait(&mut one, 1, usize::MAX).await?;
        Ok(one.remove(0))
    }

    /// Waits until at least one event follows the cursor, then puts into `out` (emptied
    /// first) every event that is ready, up to about `max_bytes` (always at least one).
    pub async fn next_batch(
        &mut self,
        out: &mut Vec<Arc<Event>>,
        max_bytes: usize,
    ) -> Result<(), SubscriptionEnd> {
        self.wait(out, usize::MAX, max_bytes).await
    }

    async fn wait(
        &mut self,
        out: &mut Vec<Arc<Event>>,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<(), SubscriptionEnd> {
        out.clear();
        poll_fn(
            |cx| match self.take(out, max_events, max_bytes, cx.waker()) {
                Ok(true) => Poll::Ready(Ok(())),
                Ok(false) => Poll::Pending,
                Err(end) => Poll::Ready(Err(end)),
            },
        )
        .await
    }

    /// Moves what follows the cursor into `out`; false when nothing does yet, and then
    /// `waker` waits in the feed, under the same lock, for the next event.
    fn take(
        &mut self,
        out: &mut Vec<Arc<Event>>,
        max_events: usize,
        max_bytes: usize,
        waker: &Waker,
    ) -> Result<bool, SubscriptionEnd> {
        let mut bytes = 0;
        let mut room = |event: &Event, taken: usize| {
            bytes += event.size();
            taken < max_events && (taken == 0 || bytes <= max_bytes)
        };
        while let Some(event) = self.backlog.front() {
            if !room(event, out.len()) {
                return Ok(true);
            }
            self.cursor = event.id.seq;
            out.extend(self.backlog.pop_front());
        }
        let mut ring = self.member.feed.lock();
        let end = if ring.detached || ring.closed {
            Some(SubscriptionEnd::Closed)
        } else if ring.epoch != self.epoch {
            // The channel's history was replaced: this cursor means nothing any more.
            Some(SubscriptionEnd::Lagged)
        } else if ring.head > self.cursor
            && (ring.head - self.cursor.max(self.joined) > self.max_lag
                || self.cursor + 1 < ring.oldest())
        {
            Some(SubscriptionEnd::Lagged)
        } else {
            None
        };
        if let Some(end) = end {
            return if out.is_empty() { Err(end) } else { Ok(true) };
        }
        for event in ring.after(self.cursor) {
            if !room(event, out.len()) {
                break;
            }
            self.cursor = event.id.seq;
            out.push(Arc::clone(event));
        }
        if out.is_empty() {
            ring.waiters.wait(waker, &mut self.place);
        }
        Ok(!out.is_empty())
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.member.feed.lock().waiters.leave(&mut self.place);
    }
}
