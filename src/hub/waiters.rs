//! The subscribers of one feed that wait for its next event: their wakers, kept under the
//! feed's own lock.
//!
//! A subscriber that finds nothing after its cursor leaves its waker here in the same locked
//! step in which it looked, and a publisher takes every waker in the step in which it appends,
//! so no event can slip between the look and the wait. Waiting costs a subscriber one slot,
//! reused across waits; an event costs the publisher one pass over the slots. (A general
//! `Notify` would add a second lock and an intrusive list walk to every wait.)

use std::task::Waker;

/// The wakers of the subscribers waiting on one feed.
#[derive(Default)]
pub(super) struct Waiters {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
    /// How many times the list was emptied; a [`Place`] of an older round is void.
    round: u64,
}

/// Where one subscription's waker sits, if it waits.
#[derive(Debug, Default)]
pub(super) struct Place(Option<(u64, usize)>);

impl Waiters {
    /// Records that the task of `waker` waits, in the slot it already has if it has one.
    pub(super) fn wait(&mut self, waker: &Waker, place: &mut Place) {
        if let Some((round, slot)) = place.0
            && round == self.round
            && let Some(Some(held)) = self.slots.get_mut(slot)
        {
            if !held.will_wake(waker) {
                *held = waker.clone();
            }
            return;
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(waker.clone());
                slot
            }
            None => {
                self.slots.push(Some(waker.clone()));
                self.slots.len() - 1
            }
        };
        place.0 = Some((self.round, slot));
    }

    /// Gives up the slot of a subscription that no longer waits (it is going away).
    pub(super) fn leave(&mut self, place: &mut Place) {
        if let Some((round, slot)) = place.0.take()
            && round == self.round
            && self.slots.get_mut(slot).is_some_and(|s| s.take().is_some())
        {
            self.free.push(slot);
        }
    }

    /// Every waiting task, to wake once the lock is released; the list starts over.
    pub(super) fn take(&mut self) -> Vec<Waker> {
        self.round += 1;
        self.free.clear();
        self.slots.drain(..).flatten().collect()
    }
}

/// Wakes every task in `wakers` (outside the feed's lock, so they do not queue behind it).
pub(super) fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_waiter_holds_one_slot_and_is_woken_once_per_round() {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        let (mut waiters, mut place, mut gone) =
            (Waiters::default(), Place::default(), Place::default());
        waiters.wait(&waker, &mut place);
        waiters.wait(&waker, &mut place);
        waiters.wait(&waker, &mut gone);
        waiters.leave(&mut gone);
        wake_all(waiters.take());
        assert_eq!(
            counter.0.load(Ordering::Relaxed),
            1,
            "one wake for the one who still waits"
        );

        waiters.wait(&waker, &mut place);
        assert_eq!(waiters.slots.len(), 1, "a new round, a new slot");
        waiters.leave(&mut place);
        assert!(waiters.take().is_empty());
    }
}
