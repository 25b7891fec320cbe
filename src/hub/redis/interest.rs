//! Per-channel interest: which channels' live topics this instance's pub/sub link subscribes
//! to. A channel is wanted from its first local subscriber on; after its last one leaves it
//! lingers `unsubscribe_after` (a subscriber that comes back soon finds it subscribed still),
//! then the fan-out task unsubscribes it. The task sends the changes in batches: one
//! `SUBSCRIBE` and one `UNSUBSCRIBE` for everything that changed since its last round.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::hub::Channel;

/// One channel's topic.
struct Topic {
    /// The link has confirmed the subscription.
    subscribed: bool,
    /// When its last local subscriber left (none while somebody listens).
    idle_since: Option<Instant>,
}

struct State {
    topics: HashMap<Channel, Topic>,
    /// The pub/sub link is connected.
    link_up: bool,
}

/// The channels wanted, shared by the hub (which adds and releases them) and the fan-out
/// task (which subscribes and unsubscribes).
pub(super) struct Interest {
    state: Mutex<State>,
    /// Wakes the fan-out task when there is something to send.
    pub(super) wake: Notify,
    /// Moves on after every batch and every change of the link, for [`Interest::subscribed`].
    rounds: watch::Sender<u64>,
    linger: Duration,
}

/// What the fan-out task sends in one round.
pub(super) struct Plan {
    pub(super) subscribe: Vec<Channel>,
    pub(super) unsubscribe: Vec<Channel>,
}

impl Interest {
    pub(super) fn new(linger: Duration) -> Interest {
        Interest {
            state: Mutex::new(State {
                topics: HashMap::new(),
                link_up: false,
            }),
            wake: Notify::new(),
            rounds: watch::Sender::new(0),
            linger,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change is a single step on the table, so a poisoned one is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A local subscriber arrived on `channel`.
    pub(super) fn want(&self, channel: &Channel) {
        let mut state = self.lock();
        let topic = state.topics.entry(channel.clone()).or_insert(Topic {
            subscribed: false,
            idle_since: None,
        });
        topic.idle_since = None;
        if !topic.subscribed {
            drop(state);
            self.wake.notify_one();
        }
    }

    /// The last local subscriber of `channel` left.
    pub(super) fn release(&self, channel: &Channel) {
        if let Some(topic) = self.lock().topics.get_mut(channel) {
            topic.idle_since = Some(Instant::now());
        }
        self.wake.notify_one();
    }

    /// Waits (at most `limit`) until the link has confirmed the subscription to `channel`, so
    /// that a read taken afterwards is followed by every later event. Returns at once while
    /// the link is down: then the reconnect catches every local subscriber up.
    pub(super) async fn subscribed(&self, channel: &Channel, limit: Duration) {
        let mut rounds = self.rounds.subscribe();
        let wait = async {
            loop {
                {
                    let state = self.lock();
                    let done = state.topics.get(channel).is_none_or(|t| t.subscribed);
                    if done || !state.link_up {
                        return;
                    }
                }
                if rounds.changed().await.is_err() {
                    return;
                }
            }
        };
        // After the limit the subscriber goes on: the next hole in its window is healed.
        let _waited = tokio::time::timeout(limit, wait).await;
    }

    /// What to send now: the wanted channels not subscribed yet, and the subscribed ones idle
    /// for longer than the linger time (forgotten here at once; a subscriber arriving in
    /// between wants the channel again, and its `SUBSCRIBE` follows the `UNSUBSCRIBE`).
    pub(super) fn plan(&self, now: Instant) -> Plan {
        let mut plan = Plan {
            subscribe: Vec::new(),
            unsubscribe: Vec::new(),
        };
        self.lock().topics.retain(|channel, topic| {
            match (topic.subscribed, topic.idle_since) {
                (false, None) => plan.subscribe.push(channel.clone()),
                (false, Some(_)) => return false,
                (true, Some(since)) if now.duration_since(since) >= self.linger => {
                    plan.unsubscribe.push(channel.clone());
                    return false;
                }
                (true, _) => {}
            }
            true
        });
        plan
    }

    /// When the next idle topic is due to be unsubscribed.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.lock()
            .topics
            .values()
            .filter(|t| t.subscribed)
            .filter_map(|t| t.idle_since)
            .min()
            .map(|since| since + self.linger)
    }

    /// The link confirmed the subscriptions to `channels`.
    pub(super) fn confirmed(&self, channels: &[Channel]) {
        let mut state = self.lock();
        for channel in channels {
            if let Some(topic) = state.topics.get_mut(channel) {
                topic.subscribed = true;
            }
        }
        drop(state);
        self.rounds.send_modify(|n| *n += 1);
    }

    /// The link came up (nothing is subscribed on a new connection) or went down.
    pub(super) fn link(&self, up: bool) {
        let mut state = self.lock();
        state.link_up = up;
        for topic in state.topics.values_mut() {
            topic.subscribed = false;
        }
        drop(state);
        self.rounds.send_modify(|n| *n += 1);
    }

    /// The server dropped the subscription to `channel` (its slot moved): if it is still
    /// wanted, the next round subscribes it again (where the slot lives now).
    pub(super) fn lost(&self, channel: &Channel) {
        if let Some(topic) = self.lock().topics.get_mut(channel) {
            topic.subscribed = false;
        }
        self.wake.notify_one();
    }

    /// The link may have lost some of its subscriptions (one of its connections dropped): the
    /// next round subscribes every wanted channel again (a repeat is harmless).
    pub(super) fn resubscribe_all(&self) {
        for topic in self.lock().topics.values_mut() {
            topic.subscribed = false;
        }
        self.wake.notify_one();
    }

    /// How many topics the link subscribes to now.
    pub(super) fn count(&self) -> usize {
        self.lock().topics.values().filter(|t| t.subscribed).count()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn ch(name: &str) -> Channel {
        Channel::parse(name).unwrap()
    }

    const LINGER: Duration = Duration::from_secs(30);

    #[test]
    fn a_channel_is_subscribed_once_and_unsubscribed_after_lingering() {
        let interest = Interest::new(LINGER);
        interest.link(true);
        interest.want(&ch("a"));
        interest.want(&ch("a"));
        let plan = interest.plan(Instant::now());
        assert_eq!(plan.subscribe, [ch("a")]);
        interest.confirmed(&plan.subscribe);
        assert!(
            interest.plan(Instant::now()).subscribe.is_empty(),
            "asked once"
        );
        assert_eq!(interest.count(), 1);

        interest.release(&ch("a"));
        let left = Instant::now();
        let early = interest.plan(left + LINGER - Duration::from_secs(1));
        assert!(early.unsubscribe.is_empty(), "still lingering");
        interest.want(&ch("a"));
        let back = interest.plan(left + 2 * LINGER);
        assert!(back.unsubscribe.is_empty(), "wanted again");
        interest.release(&ch("a"));
        let due = interest.next_due().expect("an idle topic");
        assert_eq!(interest.plan(due).unsubscribe, [ch("a")]);
        assert_eq!(interest.count(), 0);
        assert!(interest.next_due().is_none());
    }

    #[test]
    fn a_new_link_subscribes_every_wanted_channel_again_and_drops_idle_ones() {
        let interest = Interest::new(LINGER);
        interest.link(true);
        interest.want(&ch("a"));
        interest.want(&ch("b"));
        interest.confirmed(&interest.plan(Instant::now()).subscribe);
        interest.release(&ch("b"));

        interest.link(false);
        interest.link(true);
        let plan = interest.plan(Instant::now());
        assert_eq!(plan.subscribe, [ch("a")]);
        assert!(plan.unsubscribe.is_empty());
    }

    #[tokio::test]
    async fn a_subscriber_waits_for_the_confirmation_but_not_for_a_link_that_is_down() {
        let interest = Arc::new(Interest::new(LINGER));
        interest.want(&ch("a"));
        let limit = Duration::from_secs(10);
        // Down: no wait at all.
        tokio::time::timeout(limit / 2, interest.subscribed(&ch("a"), limit))
            .await
            .expect("no wait while the link is down");

        interest.link(true);
        let waiting = tokio::spawn({
            let interest = Arc::clone(&interest);
            async move { interest.subscribed(&ch("a"), limit).await }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished(), "waits for the confirmation");
        interest.confirmed(&interest.plan(Instant::now()).subscribe);
        tokio::time::timeout(limit / 2, waiting)
            .await
            .expect("done once confirmed")
            .unwrap();
    }
}
