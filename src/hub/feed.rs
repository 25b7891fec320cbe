//! A channel's events in this process, read in place by every subscriber.
//!
//! A [`Feed`] holds a run of consecutive events (a [`Ring`]) and, under the same lock, the
//! subscribers waiting for more (see [`Waiters`]). Subscribers keep only a cursor and take what follows it,
//! several events at a time when they are behind, so an event is stored once however many
//! read it. The memory backend's feed is the channel's whole history; the Redis backend's is
//! a window of the live events this instance received.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use super::waiters::{Waiters, wake_all};
use super::{Channel, Event};

/// One channel's events and its waiting subscribers.
pub struct Feed {
    channel: Channel,
    ring: Mutex<Ring>,
    subscribers: AtomicUsize,
    home: Weak<dyn Home>,
}

/// The table a feed lives in, told when the feed's last subscriber leaves.
pub(super) trait Home: Send + Sync {
    fn release(&self, feed: &Arc<Feed>);
}

/// Consecutive events ending at `head`, and the history they belong to.
pub(super) struct Ring {
    pub(super) epoch: Arc<str>,
    pub(super) head: u64,
    events: VecDeque<Arc<Event>>,
    bytes: usize,
    /// Memory backend: ids have been handed out under `epoch`.
    pub(super) started: bool,
    /// The feed left its table: publishers look it up again; subscribers end.
    pub(super) detached: bool,
    /// The hub shut down: subscribers end.
    pub(super) closed: bool,
    /// The subscribers waiting for the event after the head.
    pub(super) waiters: Waiters,
}

impl Ring {
    /// The sequence number of the oldest event held (`head + 1` when none is).
    pub(super) fn oldest(&self) -> u64 {
        self.head + 1 - self.events.len() as u64
    }

    pub(super) fn events(&self) -> &VecDeque<Arc<Event>> {
        &self.events
    }

    /// The events after sequence number `seq`, oldest first.
    pub(super) fn after(&self, seq: u64) -> impl Iterator<Item = &Arc<Event>> {
        let skip = seq.saturating_add(1).saturating_sub(self.oldest());
        self.events
            .iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
    }

    /// Appends the event that follows the head.
    pub(super) fn push(&mut self, event: Arc<Event>) {
        debug_assert_eq!(event.id.seq, self.head + 1);
        self.head = event.id.seq;
        self.bytes += event.size();
        self.events.push_back(event);
    }

    /// Drops the oldest event; returns the bytes it held.
    pub(super) fn pop_oldest(&mut self) -> usize {
        let size = self.events.pop_front().map_or(0, |e| e.size());
        self.bytes -= size;
        size
    }

    /// Starts over at `head` of history `epoch`, holding nothing.
    pub(super) fn replace(&mut self, epoch: Arc<str>, head: u64) -> usize {
        let freed = self.bytes;
        self.epoch = epoch;
        self.head = head;
        self.events.clear();
        self.bytes = 0;
        freed
    }

    /// Drops the events older than `ttl`; returns the bytes freed.
    pub(super) fn expire(&mut self, ttl: Duration) -> usize {
        let mut freed = 0;
        while self
            .events
            .front()
            .is_some_and(|e| e.born().elapsed() > ttl)
        {
            freed += self.pop_oldest();
        }
        freed
    }

    /// Drops the oldest events until at most `count` events and `bytes` bytes remain (the
    /// newest event always stays); returns the bytes freed.
    pub(super) fn bound(&mut self, count: usize, bytes: usize) -> usize {
        let mut freed = 0;
        while self.events.len() > count.max(1) || (self.events.len() > 1 && self.bytes > bytes) {
            freed += self.pop_oldest();
        }
        freed
    }
}

impl Feed {
    /// An empty feed at `head` of history `epoch`, living in `home`.
    pub(super) fn new(channel: Channel, epoch: Arc<str>, head: u64, home: Weak<dyn Home>) -> Feed {
        Feed {
            channel,
            ring: Mutex::new(Ring {
                epoch,
                head,
                events: VecDeque::new(),
                bytes: 0,
                started: false,
                detached: false,
                closed: false,
                waiters: Waiters::default(),
            }),
            subscribers: AtomicUsize::new(0),
            home,
        }
    }

    /// A feed of a hub that has shut down: in no table, and its subscribers end at once.
    pub(super) fn closed(channel: Channel) -> Feed {
        let feed = Feed::new(channel, Arc::from(""), 0, Weak::<Nowhere>::new());
        feed.lock().closed = true;
        feed
    }

    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Ring> {
        // Every change to a ring leaves it consistent before the next one starts, so a lock
        // poisoned by a panic elsewhere still guards a usable ring.
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes every waiting subscriber (after the ring changed under another lock).
    pub(super) fn wake(&self) {
        let wakers = self.lock().waiters.take();
        wake_all(wakers);
    }

    /// How many subscriptions read this feed now.
    pub(super) fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::Acquire)
    }

    /// Counts one more subscriber until the returned [`Member`] is dropped.
    pub(super) fn join(self: &Arc<Feed>) -> Member {
        self.subscribers.fetch_add(1, Ordering::AcqRel);
        Member {
            feed: Arc::clone(self),
        }
    }

    /// Ends every subscriber: the hub is shutting down.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.wake();
    }
}

/// The home of a feed that lives in no table.
struct Nowhere;

impl Home for Nowhere {
    fn release(&self, _: &Arc<Feed>) {}
}

/// One subscriber's membership of a feed; dropping it may free the feed.
pub(super) struct Member {
    pub(super) feed: Arc<Feed>,
}

impl Drop for Member {
    fn drop(&mut self) {
        if self.feed.subscribers.fetch_sub(1, Ordering::AcqRel) == 1
            && let Some(home) = self.feed.home.upgrade()
        {
            home.release(&self.feed);
        }
    }
}
