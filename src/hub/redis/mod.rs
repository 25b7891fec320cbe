//! The Redis backend: several instances behind a load balancer act as one hub.
//!
//! Keys, for a channel `<ch>` under the configured prefix `<p>`:
//! - `<p>:{<ch>}:meta`, a hash: `epoch` (the token of the channel's history), `seq` (its head)
//!   and `bytes` (the bytes of data its stream holds);
//! - `<p>:{<ch>}:log`, a stream with one entry per event, id `<seq>-0` (so `XRANGE` by sequence
//!   number is a range of ids), fields `at` (ms, Redis clock) and `data` (compact JSON text);
//! - `<p>:{<ch>}:live`, the pub/sub topic on which each event is announced as
//!   `<epoch> <seq> <at> <data>` (the sequence lets a receiver see a hole and fill it);
//! - `<p>:{<tag>}:site`, one per hash slot, shared by the channels whose keys live in that slot
//!   (`<tag>` is a hash tag of the slot, see [`slots`]): the genesis, the `run_id` of the Redis
//!   process it belongs to and one generation counter per bucket of channel names. The epoch a
//!   channel's next history takes is the genesis followed by its bucket's generation (as in
//!   the memory backend, see `hub/epochs.rs`), so reads need no per-channel state; `site.lua`
//!   holds the rule for history Redis may have lost, which thus holds slot by slot. Every
//!   key a script touches shares one slot, so the scripts run on Redis Cluster as they do on
//!   one server.
//!
//! Publishing is one Lua script (`publish.lua`), so ids stay dense across instances; it trims
//! the stream to `history` entries, `history_bytes` bytes of data and `history_ttl_ms`. Reads run
//! `read.lua`, which returns the head and the wanted entries at once and applies no rule of its
//! own: the cursor rule is [`super::cursor::start`], as in the memory backend. Each instance holds one
//! pub/sub connection ([`fanout`]), subscribed to the topics of the channels that have
//! subscribers here ([`interest`]), and feeds one local window per channel from it, which every
//! local subscriber reads in place, so browsers never cost a Redis connection. A channel's keys
//! expire `history_ttl_ms` after its last publish (reads keep an existing epoch alive), so an idle
//! channel cleans itself up; reads of a channel with no keys create none.

mod choices;
mod fanout;
mod interest;
mod link;
mod local;
mod replay;
mod sharded;
mod slots;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rocket::fairing::AdHoc;
use tokio::sync::oneshot;

use super::{
    BackendStats, Batch, Channel, Event, EventHub, EventId, Footprint, HubError, IdempotencyKey,
    Payload, Published, Subscription,
};
use crate::config::HubConfig;
use replay::Range;

pub use choices::{Choices, Lease, Timing};

pub(super) use super::epochs::bucket;

/// The longest any single Redis command may take before the request answers 503.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// The Redis backend.
pub struct RedisHub {
    shared: Arc<Shared>,
    /// Shut down: no live subscriptions any more, and no fan-out task.
    closed: AtomicBool,
    /// Dropping or sending on it stops the fan-out task.
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

/// What the hub and its fan-out task share.
struct Shared {
    config: HubConfig,
    commands: link::Commands,
    /// How live messages arrive: a pub/sub connection of the fan-out task's own (one
    /// server), or pushes on the cluster connection (sharded pub/sub).
    live: Live,
    publish: redis::Script,
    read: redis::Script,
    local: Arc<local::Local>,
    /// Live messages received on the pub/sub link.
    live_messages: AtomicU64,
    /// Holes in a window filled from the stream.
    gap_repairs: AtomicU64,
}

impl RedisHub {
    /// Prepares the backend. Nothing is connected yet (commands connect on first use), but the
    /// URL is checked. Must run inside a Tokio runtime.
    pub fn new(config: HubConfig) -> Result<RedisHub, String> {
        let (commands, live) = link::open(&config, COMMAND_TIMEOUT)?;
        let live = match live {
            link::Live::Single(client) => Live::Single(client),
            link::Live::Cluster(pushes) => Live::Cluster(Arc::new(tokio::sync::Mutex::new(pushes))),
        };
        let interest = interest::Interest::new(Duration::from_millis(config.unsubscribe_after_ms));
        let local = local::Local::new(
            (
                config.subscriber_queue,
                config.history_bytes,
                config.max_channels,
            ),
            Arc::new(interest),
        );
        let shared = Arc::new(Shared {
            config,
            commands,
            live,
            // Both scripts start with the site's rule (site.lua), written once.
            publish: redis::Script::new(concat!(
                include_str!("site.lua"),
                include_str!("publish.lua")
            )),
            read: redis::Script::new(concat!(include_str!("site.lua"), include_str!("read.lua"))),
            local,
            live_messages: AtomicU64::new(0),
            gap_repairs: AtomicU64::new(0),
        });
        Ok(RedisHub {
            shared,
            closed: AtomicBool::new(false),
            stop: Mutex::new(None),
        })
    }

    /// Starts the fan-out task (the instance's one pub/sub connection) unless it runs already.
    /// [`RedisHub::subscribe`] calls it too, so a hub works without Rocket's liftoff.
    pub fn start(&self) {
        let mut stop = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
        if stop.as_ref().is_some_and(|tx| !tx.is_closed()) {
            return;
        }
        let (tx, rx) = oneshot::channel();
        *stop = Some(tx);
        tokio::spawn(fanout::run(Arc::downgrade(&self.shared), rx));
    }

    /// Stops the fan-out task; live subscriptions then end as `Closed`.
    pub fn stop(&self) {
        let tx = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(tx) = tx {
            // An error means the task has already ended, which is what we want.
            let _ended = tx.send(());
        }
        self.shared.local.close_all();
    }

    /// The visitors' choices (event patterns) kept in the same Redis.
    pub fn choices(&self) -> Choices {
        Choices::new(Arc::clone(&self.shared))
    }

    /// How many channels have local subscribers' windows right now.
    pub fn local_channel_count(&self) -> usize {
        self.shared.local.len()
    }
}

/// How live messages reach an instance.
enum Live {
    Single(redis::Client),
    /// The fan-out task holds the lock while it runs.
    Cluster(Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>>>),
}

impl Shared {
    fn cluster(&self) -> bool {
        matches!(self.live, Live::Cluster(_))
    }

    fn meta_key(&self, channel: &Channel) -> String {
        format!("{}:{{{channel}}}:meta", self.config.prefix)
    }

    fn log_key(&self, channel: &Channel) -> String {
        format!("{}:{{{channel}}}:log", self.config.prefix)
    }

    fn topic(&self, channel: &Channel) -> String {
        format!("{}:{{{channel}}}:live", self.config.prefix)
    }

    /// The channel whose topic is `topic`, if it is one of this hub's.
    fn channel_of_topic(&self, topic: &str) -> Option<Channel> {
        let name = topic
            .strip_prefix(self.config.prefix.as_str())?
            .strip_prefix(":{")?
            .strip_suffix("}:live")?;
        Channel::parse(name).ok()
    }

    /// Adds the three keys every script takes: the channel's meta and stream, then the site
    /// (see `site.lua`).
    fn site_keys<'i, 'a>(
        &self,
        invocation: &'i mut redis::ScriptInvocation<'a>,
        channel: &Channel,
    ) -> &'i mut redis::ScriptInvocation<'a> {
        invocation
            .key(self.meta_key(channel))
            .key(self.log_key(channel))
            .key(format!(
                "{}:{{{}}}:site",
                self.config.prefix,
                slots::site_tag(channel)
            ))
    }

    /// Where a publish's idempotency key lives: beside its channel's keys.
    fn idempotency_key(&self, channel: &Channel, key: &IdempotencyKey) -> String {
        format!("{}:{{{channel}}}:key:{}", self.config.prefix, key.as_str())
    }

    /// How long keys live after their last use, in milliseconds (at least a second, so a
    /// `history_ttl_ms` of 0 still keeps the epoch between two calls).
    fn key_ttl_ms(&self) -> u64 {
        self.config.history_ttl_ms.max(1000)
    }

    /// Runs one script invocation with a deadline; every failure is [`HubError::Unavailable`].
    async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, HubError> {
        let mut commands = self.commands.clone();
        // Only two failures prove that the command did not run: no connection could be made,
        // or Redis answered with an error. Anything else may have reached Redis first.
        let unknown = || HubError::Unknown("Redis did not answer in time".to_owned());
        match tokio::time::timeout(COMMAND_TIMEOUT, invocation.invoke_async(&mut commands)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) if e.is_connection_refusal() => Err(unavailable("cannot reach Redis")),
            Ok(Err(e)) if e.is_timeout() || e.is_io_error() || e.is_connection_dropped() => {
                Err(unknown())
            }
            Ok(Err(e)) => {
                // Not a connection problem: worth a line in the log, but not the details
                // in the answer to the client.
                rocket::error!("Redis refused a hub command: {e}");
                Err(unavailable("Redis refused the command"))
            }
            Err(_) => Err(unknown()),
        }
    }
}

fn unavailable(why: &str) -> HubError {
    HubError::Unavailable(format!("{why}; try again shortly"))
}

#[rocket::async_trait]
impl EventHub for RedisHub {
    async fn publish_once(
        &self,
        channel: &Channel,
        data: Payload,
        key: Option<&IdempotencyKey>,
    ) -> Result<Published, HubError> {
        let shared = &self.shared;
        let mut invocation = shared.publish.prepare_invoke();
        shared.site_keys(&mut invocation, channel);
        match key {
            Some(key) => invocation.key(shared.idempotency_key(channel, key)),
            // Not read by the script; the script takes four keys either way.
            None => invocation.key(shared.meta_key(channel)),
        };
        let ttl_ms = key.map_or(0, |k| k.ttl().as_millis());
        invocation
            .arg(EventId::new_epoch())
            .arg(data.as_str())
            .arg(shared.config.history)
            .arg(shared.config.history_ttl_ms)
            .arg(shared.key_ttl_ms())
            .arg(shared.topic(channel))
            .arg(shared.config.history_bytes)
            .arg(bucket(channel))
            .arg(if key.is_some() { "1" } else { "0" })
            .arg(u64::try_from(ttl_ms).unwrap_or(u64::MAX))
            .arg(if shared.cluster() {
                "SPUBLISH"
            } else {
                "PUBLISH"
            });
        // Never retried: the script may have run before the answer was lost, and a second run
        // without a key would store the event twice.
        let (epoch, seq, at, duplicate): (String, u64, i64, u8) =
            shared.invoke(&invocation).await?;
        if duplicate == 1 {
            return Ok(Published::Duplicate(EventId::new(&epoch, seq)));
        }
        let at = DateTime::<Utc>::from_timestamp_millis(at)
            .ok_or_else(|| unavailable("Redis answered an impossible time"))?;
        Ok(Published::Stored(Arc::new(Event::new(
            EventId::new(&epoch, seq),
            channel.clone(),
            &data,
            at,
        ))))
    }

    async fn read(&self, channel: &Channel, since: Option<&EventId>) -> Result<Batch, HubError> {
        let range = since.map_or(Range::Head, Range::After);
        let snap = self.shared.snapshot(channel, range).await?;
        let (start, events) = self.shared.after(channel, since, &snap)?;
        Ok(Batch {
            events,
            next: EventId::on(&snap.epoch, snap.head),
            reset: start.reset(),
        })
    }

    async fn recent(&self, channel: &Channel, limit: usize) -> Result<Batch, HubError> {
        let limit = limit.min(self.shared.config.history);
        let range = if limit == 0 {
            Range::Head
        } else {
            Range::Last(limit)
        };
        let snap = self.shared.snapshot(channel, range).await?;
        Ok(Batch {
            events: self.shared.events(channel, &snap)?,
            next: EventId::on(&snap.epoch, snap.head),
            reset: None,
        })
    }

    async fn subscribe(
        &self,
        channel: &Channel,
        since: Option<&EventId>,
    ) -> Result<Subscription, HubError> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(Subscription::closed(channel));
        }
        self.start();
        // Join the local window before reading the backlog, and wait until the channel's
        // topic is subscribed, so nothing published in between is missed; the subscription
        // skips what both parts carry.
        let member = self.shared.local.join(channel)?;
        self.shared
            .local
            .interest
            .subscribed(channel, COMMAND_TIMEOUT)
            .await;
        let range = since.map_or(Range::Head, Range::After);
        let snap = self.shared.snapshot(channel, range).await?;
        let (start, events) = self.shared.after(channel, since, &snap)?;
        self.shared
            .local
            .settle(&member.feed, &snap.epoch, snap.head);
        Ok(Subscription::new(
            member,
            start.reset(),
            (snap.epoch, start.after(snap.head), snap.head),
            events,
            self.shared.config.subscriber_queue,
        ))
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.stop();
    }

    /// The channels with local subscribers; the history itself is in Redis, so none of it
    /// is counted here.
    fn footprint(&self) -> Footprint {
        Footprint {
            channels: self.local_channel_count(),
            history_bytes: 0,
        }
    }

    fn backend_stats(&self) -> Option<BackendStats> {
        let shared = &self.shared;
        Some(BackendStats {
            live_messages: shared.live_messages.load(Ordering::Relaxed),
            subscribed: shared.local.interest.count(),
            gap_repairs: shared.gap_repairs.load(Ordering::Relaxed),
            resets: shared.local.resets.load(Ordering::Relaxed),
        })
    }
}

/// A fairing that starts the fan-out task at liftoff (closing the hub at shutdown stops it).
pub fn upkeep(hub: &Arc<RedisHub>) -> AdHoc {
    let hub: Weak<RedisHub> = Arc::downgrade(hub);
    AdHoc::on_liftoff("Redis fan-out", move |_| {
        Box::pin(async move {
            if let Some(running) = hub.upgrade() {
                running.start();
            }
        })
    })
}
