//! The local side of the fan-out: one [`Feed`] per channel that has subscribers in this
//! instance, holding a window of the live events received here, and the rule that tells a
//! duplicate from a hole.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::interest::Interest;
use crate::hub::feed::{Feed, Home, Member};
use crate::hub::waiters::wake_all;
use crate::hub::{Channel, Event, HubError};

/// The local feeds, by channel.
pub(super) struct Local {
    /// The most events a window keeps (and a subscriber may lag).
    queue: usize,
    /// The most bytes a window keeps.
    bytes: usize,
    max_channels: usize,
    feeds: Mutex<HashMap<Channel, Arc<Feed>>>,
    /// The topics the pub/sub link subscribes to: a channel is wanted while it has a feed.
    pub(super) interest: Arc<Interest>,
    /// Windows started over because Redis held another history or went back on an event, or
    /// because a hole could no longer be filled from the stream.
    pub(super) resets: AtomicU64,
    me: Weak<Local>,
}

/// What to do with an announced event.
pub(super) enum Next {
    /// Nobody here listens, or it is already in the window: nothing.
    Skip,
    /// Append it, after fetching the events after `from` that are missing before it.
    After(u64),
}

impl Local {
    pub(super) fn new(
        (queue, bytes, max_channels): (usize, usize, usize),
        interest: Arc<Interest>,
    ) -> Arc<Local> {
        Arc::new_cyclic(|me| Local {
            queue,
            bytes,
            max_channels,
            feeds: Mutex::new(HashMap::new()),
            interest,
            resets: AtomicU64::new(0),
            me: Weak::clone(me),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Channel, Arc<Feed>>> {
        // Every change is a single insert or remove, so a poisoned table is still consistent.
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Joins the channel's feed, creating it (with no window yet) if needed. Refused at
    /// `max_channels` without looking at the others: feeds leave with their last subscriber.
    pub(super) fn join(&self, channel: &Channel) -> Result<Member, HubError> {
        let mut feeds = self.lock();
        if let Some(feed) = feeds.get(channel) {
            return Ok(feed.join());
        }
        if feeds.len() >= self.max_channels {
            return Err(HubError::Full);
        }
        let home: Weak<dyn Home> = Weak::clone(&self.me) as Weak<dyn Home>;
        let feed = Arc::new(Feed::new(channel.clone(), Arc::from(""), 0, home));
        feeds.insert(channel.clone(), Arc::clone(&feed));
        self.interest.want(channel);
        Ok(feed.join())
    }

    /// Records that a subscriber of `feed` has every event up to `head` of `epoch` (from its
    /// replay), so the window starts no later than that.
    pub(super) fn settle(&self, feed: &Feed, epoch: &str, head: u64) {
        let mut ring = feed.lock();
        if !ring.started || &*ring.epoch != epoch {
            // The first subscriber, or a new history: older subscribers end and resume.
            ring.replace(Arc::from(epoch), head);
            ring.started = true;
            drop(ring);
            feed.wake();
        } else if ring.events().is_empty() && head < ring.head {
            // Nothing received yet: start the window at the lowest replayed head.
            ring.head = head;
        }
    }

    /// The feeds somebody listens to, with the sequence number each window has reached.
    pub(super) fn active(&self) -> Vec<(Arc<Feed>, Arc<str>, u64)> {
        self.lock()
            .values()
            .filter_map(|feed| {
                let ring = feed.lock();
                ring.started
                    .then(|| (Arc::clone(feed), Arc::clone(&ring.epoch), ring.head))
            })
            .collect()
    }

    /// Whether and from where an event announced as `seq` of `epoch` (stored at `at` with
    /// `data`) goes into the window of `channel`. A new epoch starts a new window (its old
    /// subscribers end and resume). A sequence number the window has passed is skipped, unless
    /// the window holds another event under it: then Redis went back on what it said, and the
    /// window's subscribers end and resume (to a reset) rather than skip it.
    pub(super) fn next(
        &self,
        channel: &Channel,
        (epoch, seq): (&str, u64),
        (at, data): (i64, &str),
    ) -> (Next, Option<Arc<Feed>>) {
        let Some(feed) = self.lock().get(channel).cloned() else {
            return (Next::Skip, None);
        };
        let mut ring = feed.lock();
        if !ring.started {
            // The joining subscriber has not read its replay yet; its replay or the healing of
            // the next hole brings this event.
            return (Next::Skip, None);
        }
        if &*ring.epoch != epoch {
            ring.replace(Arc::from(epoch), seq - 1);
            self.count_reset();
        }
        if seq > ring.head {
            let from = ring.head;
            drop(ring);
            return (Next::After(from), Some(feed));
        }
        // An event from before the window began came to its subscribers in their replay (the
        // link is often behind it); one the window holds must be the very same event.
        let held = ring.after(seq - 1).next().filter(|e| e.id.seq == seq);
        let differs = held.is_some_and(|e| e.at.timestamp_millis() != at || e.data_json() != data);
        if differs {
            // No epoch to continue: every subscriber ends, and the next one to join sets the
            // window up again from what Redis holds.
            ring.replace(Arc::from(""), 0);
            ring.started = false;
            let waiting = ring.waiters.take();
            drop(ring);
            wake_all(waiting);
            self.count_reset();
        }
        (Next::Skip, None)
    }

    pub(super) fn count_reset(&self) {
        self.resets.fetch_add(1, Ordering::Relaxed);
    }

    /// Starts `feed`'s window over after a hole the stream can no longer fill: at `head`
    /// (the event before the oldest one still stored). Its subscribers end, and resume to a
    /// reset.
    pub(super) fn skip_to(&self, feed: &Feed, head: u64) {
        let mut ring = feed.lock();
        if ring.started && head > ring.head {
            let epoch = Arc::clone(&ring.epoch);
            ring.replace(epoch, head);
            let waiting = ring.waiters.take();
            drop(ring);
            wake_all(waiting);
            self.count_reset();
        }
    }

    /// Appends `event` to its feed's window if it is the window's next one.
    pub(super) fn push(&self, feed: &Feed, event: Arc<Event>) {
        let mut ring = feed.lock();
        if ring.started && ring.epoch == event.id.epoch && event.id.seq == ring.head + 1 {
            ring.push(event);
            ring.bound(self.queue, self.bytes);
            let waiting = ring.waiters.take();
            drop(ring);
            wake_all(waiting);
        }
    }

    /// Drops every feed, which ends every local subscription.
    pub(super) fn close_all(&self) {
        for (_, feed) in self.lock().drain() {
            feed.close();
        }
    }
}

impl Home for Local {
    /// A feed goes with its last subscriber.
    fn release(&self, feed: &Arc<Feed>) {
        let mut feeds = self.lock();
        if feed.subscribers() == 0
            && feeds
                .get(feed.channel())
                .is_some_and(|f| Arc::ptr_eq(f, feed))
        {
            feeds.remove(feed.channel());
            self.interest.release(feed.channel());
        }
    }
}
