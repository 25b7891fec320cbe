//! The in-memory backend: every channel's replay buffer and fan-out live in this process.
//!
//! One mutex guards the channel table. It is held only for bookkeeping (never across an
//! `.await`), and holding it while a sequence number is assigned and the event is broadcast is
//! what makes ids dense and ordered, and subscriptions free of gaps.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use rocket::fairing::AdHoc;
use serde_json::Value;
use tokio::sync::broadcast;

use super::{Batch, Channel, Event, EventHub, EventId, HubError, Subscription};
use crate::config::HubConfig;

/// The reference backend.
pub struct MemoryHub {
    config: HubConfig,
    channels: Mutex<HashMap<Channel, ChannelState>>,
}

struct ChannelState {
    epoch: String,
    head: u64,
    history: VecDeque<(Instant, Arc<Event>)>,
    live: broadcast::Sender<Arc<Event>>,
    touched: Instant,
}

/// What the cursor rule decided for one request.
struct After {
    reset: bool,
    events: Vec<Arc<Event>>,
    /// The sequence number the caller has once it holds `events`.
    last_seq: u64,
}

impl MemoryHub {
    pub fn new(config: HubConfig) -> MemoryHub {
        MemoryHub {
            config,
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// Drops every channel that has no subscriber, no replayable event and no use for
    /// `history_ttl`. Returns how many channels remain.
    pub fn sweep(&self) -> usize {
        let mut channels = self.lock();
        let ttl = self.config.history_ttl();
        channels.retain(|_, state| {
            state.prune(ttl);
            state.live.receiver_count() > 0
                || !state.history.is_empty()
                || state.touched.elapsed() < ttl
        });
        channels.len()
    }

    /// How many channels exist right now.
    pub fn channel_count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Channel, ChannelState>> {
        // A panic while the lock was held cannot leave the table half-written (every change is
        // a single push or insert), so a poisoned lock is still safe to use.
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the channel's state, creating the channel if needed.
    fn with_channel<T>(
        &self,
        channel: &Channel,
        f: impl FnOnce(&mut ChannelState) -> T,
    ) -> Result<T, HubError> {
        let mut channels = self.lock();
        if !channels.contains_key(channel) && channels.len() >= self.config.max_channels {
            drop(channels);
            self.sweep();
            channels = self.lock();
            if channels.len() >= self.config.max_channels {
                return Err(HubError::Full);
            }
        }
        let state = channels
            .entry(channel.clone())
            .or_insert_with(|| ChannelState::new(self.config.subscriber_queue));
        state.touched = Instant::now();
        state.prune(self.config.history_ttl());
        Ok(f(state))
    }
}

impl ChannelState {
    fn new(queue: usize) -> ChannelState {
        ChannelState {
            epoch: EventId::new_epoch(),
            head: 0,
            history: VecDeque::new(),
            live: broadcast::channel(queue).0,
            touched: Instant::now(),
        }
    }

    fn prune(&mut self, ttl: Duration) {
        while self
            .history
            .front()
            .is_some_and(|(born, _)| born.elapsed() > ttl)
        {
            self.history.pop_front();
        }
    }

    fn head_id(&self) -> EventId {
        EventId::new(&self.epoch, self.head)
    }

    /// The cursor rule of DESIGN.md.
    fn after(&self, since: Option<&EventId>) -> After {
        let reset = After {
            reset: true,
            events: Vec::new(),
            last_seq: self.head,
        };
        let Some(since) = since else {
            return After {
                reset: false,
                ..reset
            };
        };
        if since.epoch != self.epoch || since.seq > self.head {
            return reset;
        }
        let oldest = self
            .history
            .front()
            .map_or(self.head + 1, |(_, e)| e.id.seq);
        if since.seq + 1 < oldest {
            return reset;
        }
        let skip = usize::try_from(since.seq + 1 - oldest).unwrap_or(usize::MAX);
        let events: Vec<_> = self
            .history
            .iter()
            .skip(skip)
            .map(|(_, e)| Arc::clone(e))
            .collect();
        After {
            reset: false,
            events,
            last_seq: self.head,
        }
    }
}

#[rocket::async_trait]
impl EventHub for MemoryHub {
    async fn publish(&self, channel: &Channel, data: Value) -> Result<Arc<Event>, HubError> {
        let history = self.config.history;
        self.with_channel(channel, |state| {
            state.head += 1;
            let event = Arc::new(Event {
                id: state.head_id(),
                channel: channel.clone(),
                data,
                at: chrono::Utc::now(),
            });
            if state.history.len() == history {
                state.history.pop_front();
            }
            state
                .history
                .push_back((Instant::now(), Arc::clone(&event)));
            // An error only means nobody is listening right now, which is fine.
            let _receivers = state.live.send(Arc::clone(&event));
            event
        })
    }

    async fn read(&self, channel: &Channel, since: Option<&EventId>) -> Result<Batch, HubError> {
        self.with_channel(channel, |state| {
            let after = state.after(since);
            let next = after
                .events
                .last()
                .map_or_else(|| state.head_id(), |e| e.id.clone());
            Batch {
                events: after.events,
                next,
                reset: after.reset,
            }
        })
    }

    async fn recent(&self, channel: &Channel, limit: usize) -> Result<Batch, HubError> {
        self.with_channel(channel, |state| {
            let skip = state.history.len().saturating_sub(limit);
            let events = state
                .history
                .iter()
                .skip(skip)
                .map(|(_, e)| Arc::clone(e))
                .collect();
            Batch {
                events,
                next: state.head_id(),
                reset: false,
            }
        })
    }

    async fn subscribe(
        &self,
        channel: &Channel,
        since: Option<&EventId>,
    ) -> Result<Subscription, HubError> {
        self.with_channel(channel, |state| {
            // Subscribe before reading the backlog; under this lock nothing can slip between.
            let live = state.live.subscribe();
            let after = state.after(since);
            let first = after
                .events
                .first()
                .map_or(after.last_seq, |e| e.id.seq - 1);
            Subscription::new(after.reset, state.epoch.clone(), first, after.events, live)
        })
    }
}

/// A fairing that sweeps idle channels every `sweep_interval` until shutdown.
pub fn sweeper(hub: &Arc<MemoryHub>) -> AdHoc {
    let hub: Weak<MemoryHub> = Arc::downgrade(hub);
    AdHoc::on_liftoff("Channel sweeper", move |rocket| {
        let shutdown = rocket.shutdown();
        Box::pin(async move {
            let Some(every) = hub
                .upgrade()
                .map(|h| Duration::from_secs(h.config.sweep_interval))
            else {
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
