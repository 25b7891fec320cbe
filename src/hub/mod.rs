//! The event hub: the one place that stores events and fans them out.
//!
//! Every transport reads from a [`Hub`] and never learns which backend runs behind it. The
//! event model (channels, `<epoch>-<seq>` ids, the replay buffer and the `reset` rule) is the
//! one in `DESIGN.md`. The backend is chosen once, at ignite, by [`stage`].

pub mod cursor;
mod epochs;
mod event;
mod feed;
mod keys;
pub mod memory;
mod payload;
pub mod redis;
mod subscription;
mod waiters;

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;

use crate::config::{self, Backend, HubConfig};

pub use cursor::ResetReason;
pub use event::{Channel, Event, EventId, Form};
pub use payload::Payload;
pub use subscription::{Subscription, SubscriptionEnd};

/// What a read after a cursor returns: the events after it and the cursor to use next.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub events: Vec<Arc<Event>>,
    /// The id of the last event in `events`, or the channel's head when there are none.
    pub next: EventId,
    /// Why the cursor could not be honoured, when it could not; `events` then holds what the
    /// rule of [`cursor::start`] replays after a reset.
    pub reset: Option<ResetReason>,
}

impl Batch {
    /// No events, continuing from `next`.
    pub fn empty(next: EventId, reset: Option<ResetReason>) -> Batch {
        Batch {
            events: Vec::new(),
            next,
            reset,
        }
    }

    /// Appends the batch's JSON fields, `"events":[…],"next":"…","reset":…` (and
    /// `"reset_reason":"…"` after `"reset":true`), writing each
    /// event as the envelope `envelope` gives (the stored one, or an escaped form of it).
    /// Nothing is serialized again: the envelopes are copied as they are.
    pub fn write_fields<'a>(&'a self, out: &mut String, envelope: impl Fn(&'a Event) -> &'a str) {
        out.push_str("\"events\":[");
        for (n, event) in self.events.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(envelope(event));
        }
        // Ids are alphanumerics and '-': nothing in them needs escaping.
        out.push_str("],\"next\":\"");
        out.push_str(&self.next.to_string());
        match self.reset {
            Some(why) => {
                out.push_str("\",\"reset\":true,\"reset_reason\":\"");
                out.push_str(why.as_str());
                out.push('"');
            }
            None => out.push_str("\",\"reset\":false"),
        }
    }

    /// The batch as a JSON object, `{"events":[…],"next":"…","reset":…}` (see
    /// [`Batch::write_fields`]).
    pub fn to_json(&self) -> String {
        let size: usize = self.events.iter().map(|e| e.json().len() + 1).sum();
        let mut out = String::with_capacity(size + 64);
        out.push('{');
        self.write_fields(&mut out, Event::json);
        out.push('}');
        out
    }
}

/// Why the hub refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubError {
    /// The hub cannot take another channel right now (too many are in use); nothing was
    /// stored.
    Full,
    /// The backend could not be reached, or refused the command; nothing was stored.
    Unavailable(String),
    /// The command reached the backend but no answer came back in time: a publish may or
    /// may not have been stored.
    Unknown(String),
}

impl std::fmt::Display for HubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HubError::Full => f.write_str("too many channels are in use; try again later"),
            HubError::Unavailable(why) => write!(f, "the event hub is unavailable: {why}"),
            HubError::Unknown(why) => write!(
                f,
                "{why}: the event may or may not have been stored; retrying with the same \
                 Idempotency-Key is safe"
            ),
        }
    }
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    /// The event was stored and handed to every live subscriber.
    Stored(Arc<Event>),
    /// The idempotency key was used on this channel before: the id of the event stored then.
    /// Nothing was stored now.
    Duplicate(EventId),
}

/// An `Idempotency-Key` and how long the hub remembers it: a repeat of the key on the same
/// channel within that time stores nothing and answers the first event's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    key: Box<str>,
    ttl: Duration,
}

impl IdempotencyKey {
    pub const MAX_LEN: usize = 64;

    /// Accepts 1 to 64 visible ASCII characters; the error says what is wrong without
    /// repeating the value.
    pub fn parse(key: &str, ttl: Duration) -> Result<IdempotencyKey, String> {
        if key.is_empty() || key.len() > Self::MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(format!(
                "an Idempotency-Key is 1 to {} visible ASCII characters (no spaces)",
                Self::MAX_LEN
            ));
        }
        Ok(IdempotencyKey {
            key: key.into(),
            ttl,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

impl std::error::Error for HubError {}

/// The contract every backend keeps. All methods are safe to call from many tasks at once.
#[rocket::async_trait]
pub trait EventHub: Send + Sync {
    /// Appends `data` to `channel` and hands it to every live subscriber, unless `key` was
    /// used on this channel within its time: then nothing is stored and the first event's id
    /// is answered. Both happen atomically, however many publishers race.
    ///
    /// Ids on one channel grow by exactly one per stored event, with no gaps. An error means
    /// nothing was stored, except [`HubError::Unknown`].
    async fn publish_once(
        &self,
        channel: &Channel,
        data: Payload,
        key: Option<&IdempotencyKey>,
    ) -> Result<Published, HubError>;

    /// [`EventHub::publish_once`] without a key: returns the stored event.
    async fn publish(&self, channel: &Channel, data: Payload) -> Result<Arc<Event>, HubError> {
        match self.publish_once(channel, data, None).await? {
            Published::Stored(event) => Ok(event),
            Published::Duplicate(id) => Err(HubError::Unavailable(format!(
                "a publish without a key was taken for a repeat of {id}"
            ))),
        }
    }

    /// Returns the events after `since`, in order, at once, by the rule of [`cursor::start`].
    ///
    /// No cursor means "from now": no events and the head as `next`. A cursor that cannot be
    /// honoured (unknown epoch, older than the buffer, ahead of the head) gives its `reset`
    /// reason, the events the history still holds after the reset point, and the head as
    /// `next`. Reading a channel never creates it.
    async fn read(&self, channel: &Channel, since: Option<&EventId>) -> Result<Batch, HubError>;

    /// Returns the newest `limit` events still in the replay buffer, oldest first, with the
    /// head as `next`. Pages use it to render a channel's recent past.
    async fn recent(&self, channel: &Channel, limit: usize) -> Result<Batch, HubError>;

    /// Opens a live subscription that first yields the events after `since` (by the same rule
    /// as [`EventHub::read`]) and then every new event, with no gap and no duplicate between
    /// the two parts.
    async fn subscribe(
        &self,
        channel: &Channel,
        since: Option<&EventId>,
    ) -> Result<Subscription, HubError>;

    /// Ends every live subscription as [`SubscriptionEnd::Closed`] (the server is shutting
    /// down); subscriptions opened afterwards end at once.
    fn close(&self);

    /// What this process holds now, for the metrics.
    fn footprint(&self) -> Footprint;

    /// The counters of a backend that fans out through a server (none for memory).
    fn backend_stats(&self) -> Option<BackendStats> {
        None
    }
}

/// What an instance's link to a shared backend has done, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackendStats {
    /// Live messages received from the backend.
    pub live_messages: u64,
    /// Channels whose live topic is subscribed now.
    pub subscribed: usize,
    /// Holes in a live window filled from the channel's history.
    pub gap_repairs: u64,
    /// Windows started over by the backend (a new history, or a hole history could not fill):
    /// their subscribers resume to a reset.
    pub resets: u64,
    /// Links to the backend found lost or silent (no answer to a probe) and opened anew.
    pub relinks: u64,
}

/// The channels and history bytes a process holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    pub channels: usize,
    pub history_bytes: usize,
}

/// The handle that handlers take as `&State<Hub>`.
pub type Hub = Arc<dyn EventHub>;

/// Closes the hub when Rocket starts shutting down, so that every stream, held poll and
/// WebSocket learns of it through its subscription (see [`EventHub::close`]).
fn close_at_shutdown() -> AdHoc {
    AdHoc::on_liftoff("Event hub closing", |rocket| {
        let hub = rocket.state::<Hub>().cloned();
        let shutdown = rocket.shutdown();
        Box::pin(async move {
            if let Some(hub) = hub {
                rocket::tokio::spawn(async move {
                    shutdown.await;
                    hub.close();
                });
            }
        })
    })
}

/// Builds the backend named by `config`, with the fairing that keeps it running and tidy
/// while the server runs.
/// The Redis backend also shares the visitors' [`redis::Choices`].
fn from_config(config: HubConfig) -> Result<(Hub, AdHoc, Option<redis::Choices>), String> {
    match config.backend {
        Backend::Memory => {
            let hub = Arc::new(memory::MemoryHub::new(config));
            let sweeper = memory::sweeper(&hub);
            Ok((hub, sweeper, None))
        }
        Backend::Redis => {
            let hub = Arc::new(redis::RedisHub::new(config)?);
            let fanout = redis::upkeep(&hub);
            let choices = hub.choices();
            Ok((hub, fanout, Some(choices)))
        }
    }
}

/// Reads `[hub]`, builds the backend and manages it as [`Hub`] (and, on Redis, the shared
/// [`redis::Choices`], which the event patterns then use).
pub fn stage() -> AdHoc {
    let read = |figment: &_| config::read::<HubConfig>(figment).and_then(from_config);
    config::stage("Event hub", read, |rocket, (hub, upkeep, choices)| {
        let rocket = match choices {
            Some(choices) => rocket.manage(choices),
            None => rocket,
        };
        rocket
            .manage(hub)
            .attach(upkeep)
            .attach(close_at_shutdown())
    })
}
