//! The in-memory backend: every channel's history and fan-out live in this process.
//!
//! Each channel is a [`Feed`] whose ring is its whole history, bounded by count
//! (`history`), age (`history_ttl_ms`) and bytes (`history_bytes`); all histories together stay
//! within `max_bytes`, the oldest events going first. One mutex guards the channel table and
//! is held (never across an `.await`) while a sequence number is assigned, which keeps ids
//! dense and ordered.
//!
//! Reads create nothing. A channel that was never published to has no entry, and its head is
//! `<epoch>-0` with the epoch its first history will get (see [`Epochs`]), so a cursor taken
//! from an empty channel still sees that channel's first event. Subscribers to such a channel
//! hold a light entry that goes when the last of them leaves.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use rocket::fairing::AdHoc;

use super::cursor;
use super::epochs::Epochs;
use super::feed::{Feed, Home, Ring};
use super::keys::Keys;
use super::waiters::wake_all;
use super::{
    Batch, Channel, Event, EventHub, EventId, Footprint, HubError, IdempotencyKey, Payload,
    Published, Subscription,
};
use crate::config::HubConfig;

/// The reference backend.
pub struct MemoryHub {
    shared: Arc<Shared>,
}

struct Shared {
    config: HubConfig,
    table: Mutex<Table>,
}

struct Table {
    feeds: HashMap<Channel, Arc<Feed>>,
    /// Shut down: no live subscriptions any more.
    closed: bool,
    epochs: Epochs,
    /// Every stored event in publish order, for the global byte bound.
    order: VecDeque<Stored>,
    /// The idempotency keys of recent publishes.
    keys: Keys,
    /// Bytes held by all histories, by `order` and by `keys`.
    bytes: usize,
}

/// Where one stored event is, so the global bound can evict it.
struct Stored {
    feed: Weak<Feed>,
    seq: u64,
}

/// What one entry of [`Table::order`] costs.
const STORED: usize = std::mem::size_of::<Stored>();

impl MemoryHub {
    pub fn new(config: HubConfig) -> MemoryHub {
        MemoryHub {
            shared: Arc::new(Shared {
                config,
                table: Mutex::new(Table {
                    feeds: HashMap::new(),
                    closed: false,
                    epochs: Epochs::new(EventId::new_epoch()),
                    order: VecDeque::new(),
                    keys: Keys::default(),
                    bytes: 0,
                }),
            }),
        }
    }

    /// Drops expired events everywhere, then every channel with no subscriber and no event
    /// left. Returns how many channels remain.
    pub fn sweep(&self) -> usize {
        let config = &self.shared.config;
        let mut table = self.shared.lock();
        let mut freed = 0;
        table.feeds.retain(|_, feed| {
            let mut ring = feed.lock();
            freed += ring.expire(config.history_ttl());
            let keep = feed.subscribers() > 0 || !ring.events().is_empty();
            ring.detached = !keep;
            keep
        });
        table.bytes -= freed;
        table.forget_gone();
        table.feeds.len()
    }

    /// How many channels exist right now (with a history or live subscribers).
    pub fn channel_count(&self) -> usize {
        self.shared.lock().feeds.len()
    }

    /// The bytes all histories hold right now, by the hub's own accounting.
    pub fn history_bytes(&self) -> usize {
        self.shared.lock().bytes
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        // Every change to the table is complete before the next one starts, so a lock
        // poisoned by a panic elsewhere still guards a consistent table.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The channel's feed, created (empty) if needed; refused at `max_channels`.
    fn feed(self: &Arc<Self>, table: &mut Table, channel: &Channel) -> Result<Arc<Feed>, HubError> {
        if let Some(feed) = table.feeds.get(channel) {
            return Ok(Arc::clone(feed));
        }
        if table.feeds.len() >= self.config.max_channels {
            return Err(HubError::Full);
        }
        let home: Weak<Shared> = Arc::downgrade(self);
        let epoch = table.epochs.peek(channel);
        let feed = Arc::new(Feed::new(channel.clone(), epoch, 0, home));
        table.feeds.insert(channel.clone(), Arc::clone(&feed));
        Ok(feed)
    }

    /// Drops the events of `ring` that are too old to replay; the table's count follows.
    fn expire(&self, table: &mut Table, ring: &mut Ring) {
        table.bytes -= ring.expire(self.config.history_ttl());
    }
}

impl Table {
    /// Evicts the oldest events of any channel until all histories fit in `max_bytes`.
    fn evict(&mut self, max_bytes: usize) {
        while self.bytes > max_bytes {
            let Some(stored) = self.order.pop_front() else {
                return;
            };
            self.bytes -= STORED;
            if let Some(feed) = stored.feed.upgrade() {
                let mut ring = feed.lock();
                if ring
                    .events()
                    .front()
                    .is_some_and(|e| e.id.seq == stored.seq)
                {
                    self.bytes -= ring.pop_oldest();
                }
            }
        }
    }

    /// Drops the entries of `order` whose event has already left its history.
    fn forget_gone(&mut self) {
        let before = self.order.len();
        self.order.retain(|stored| {
            stored
                .feed
                .upgrade()
                .is_some_and(|feed| stored.seq >= feed.lock().oldest())
        });
        self.bytes -= (before - self.order.len()) * STORED;
    }
}

impl Home for Shared {
    /// A light entry (no history) goes with its last subscriber.
    fn release(&self, feed: &Arc<Feed>) {
        let mut table = self.lock();
        let mut ring = feed.lock();
        if feed.subscribers() == 0 && !ring.started && !ring.detached {
            ring.detached = true;
            table.feeds.remove(feed.channel());
        }
    }
}

#[rocket::async_trait]
impl EventHub for MemoryHub {
    async fn publish_once(
        &self,
        channel: &Channel,
        data: Payload,
        key: Option<&IdempotencyKey>,
    ) -> Result<Published, HubError> {
        let shared = &self.shared;
        let at = chrono::Utc::now();
        let mut table = shared.lock();
        if let Some(key) = key {
            let (first, freed) = table.keys.find(channel, key);
            table.bytes -= freed;
            if let Some(id) = first {
                return Ok(Published::Duplicate(id));
            }
        }
        let feed = shared.feed(&mut table, channel)?;
        let (event, waiting) = {
            let mut ring = feed.lock();
            if !ring.started {
                // The first event of a new history: it takes the epoch the channel's empty
                // head already showed, unless another history claimed it meanwhile.
                ring.epoch = table.epochs.start(channel);
                ring.started = true;
            }
            shared.expire(&mut table, &mut ring);
            let id = EventId::on(&ring.epoch, ring.head + 1);
            let event = Arc::new(Event::new(id, channel.clone(), &data, at));
            table.bytes += event.size() + STORED;
            ring.push(Arc::clone(&event));
            let config = &shared.config;
            table.bytes -= ring.bound(config.history, config.history_bytes);
            (event, ring.waiters.take())
        };
        table.order.push_back(Stored {
            feed: Arc::downgrade(&feed),
            seq: event.id.seq,
        });
        if let Some(key) = key {
            table.bytes += table.keys.remember(channel, key, &event.id);
        }
        table.evict(shared.config.max_bytes);
        drop(table);
        wake_all(waiting);
        Ok(Published::Stored(event))
    }

    async fn read(&self, channel: &Channel, since: Option<&EventId>) -> Result<Batch, HubError> {
        let mut table = self.shared.lock();
        let Some(feed) = table.feeds.get(channel).cloned() else {
            let head = EventId::on(&table.epochs.peek(channel), 0);
            let start = cursor::start(since, &head.epoch, 0, 1);
            return Ok(Batch::empty(head, start.reset()));
        };
        let mut ring = feed.lock();
        self.shared.expire(&mut table, &mut ring);
        let start = cursor::start(since, &ring.epoch, ring.head, ring.oldest());
        Ok(Batch {
            events: ring.after(start.after(ring.head)).cloned().collect(),
            next: EventId::on(&ring.epoch, ring.head),
            reset: start.reset(),
        })
    }

    async fn recent(&self, channel: &Channel, limit: usize) -> Result<Batch, HubError> {
        let mut table = self.shared.lock();
        let Some(feed) = table.feeds.get(channel).cloned() else {
            let head = EventId::on(&table.epochs.peek(channel), 0);
            return Ok(Batch::empty(head, None));
        };
        let mut ring = feed.lock();
        self.shared.expire(&mut table, &mut ring);
        let skip = ring.events().len().saturating_sub(limit);
        Ok(Batch {
            events: ring.events().iter().skip(skip).cloned().collect(),
            next: EventId::on(&ring.epoch, ring.head),
            reset: None,
        })
    }

    async fn subscribe(
        &self,
        channel: &Channel,
        since: Option<&EventId>,
    ) -> Result<Subscription, HubError> {
        let shared = &self.shared;
        let mut table = shared.lock();
        if table.closed {
            return Ok(Subscription::closed(channel));
        }
        let feed = shared.feed(&mut table, channel)?;
        let member = feed.join();
        let mut ring = feed.lock();
        shared.expire(&mut table, &mut ring);
        let start = cursor::start(since, &ring.epoch, ring.head, ring.oldest());
        let place = (Arc::clone(&ring.epoch), start.after(ring.head), ring.head);
        drop(ring);
        Ok(Subscription::new(
            member,
            start.reset(),
            place,
            Vec::new(),
            shared.config.subscriber_queue,
        ))
    }

    fn close(&self) {
        let mut table = self.shared.lock();
        table.closed = true;
        for feed in table.feeds.values() {
            feed.close();
        }
    }

    fn footprint(&self) -> Footprint {
        let table = self.shared.lock();
        Footprint {
            channels: table.feeds.len(),
            history_bytes: table.bytes,
        }
    }
}

/// A fairing that sweeps idle channels every `sweep_interval_ms` until shutdown.
pub fn sweeper(hub: &Arc<MemoryHub>) -> AdHoc {
    let hub: Weak<MemoryHub> = Arc::downgrade(hub);
    AdHoc::on_liftoff("Channel sweeper", move |rocket| {
        let shutdown = rocket.shutdown();
        Box::pin(async move {
            let Some(every) = hub.upgrade().map(|h| h.shared.config.sweep_interval()) else {
                return;
            };
            rocket::tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tokio::pin!(shutdown);
                loop {
                    tokio::select! {
                        _ = tick.tick() => match hub.upgrade() {
                            Some(hub) => { hub.sweep(); }
                            None => break,
                        },
                        _ = &mut shutdown => break,
                    }
                }
            });
        })
    })
}
