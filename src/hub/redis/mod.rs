//! The Redis backend: several instances behind a load balancer act as one hub.
//!
//! Keys, for a channel `<ch>` under the configured prefix `<p>`:
//! - `<p>:{<ch>}:meta`, a hash: `epoch` (the token of the channel's history), `seq` (its head)
//!   and `bytes` (the bytes of data its stream holds);
//! - `<p>:{<ch>}:log`, a stream with one entry per event, id `<seq>-0` (so `XRANGE` by sequence
//!   number is a range of ids), fields `at` (ms, Redis clock) and `data` (compact JSON text);
//! - `<p>:{<ch>}:live`, the pub/sub topic on which each event is announced as
//!   `<epoch> <seq> <at> <data>` (the sequence lets a receiver see a hole and fill it);
//! - `<p>:{<ch>}:key:<key>` (a publish's idempotency key, for `publish.idempotency_ttl`) or
//!   `<p>:{<ch>}:once:<token>` (a publish without one, for [`ONE_SHOT_TTL`]): the id, time
//!   and token of the event that publish stored, so a repeat of it stores nothing;
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
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
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

/// How long the one-shot key of a publish without an idempotency key is remembered: past the
/// client's retries of the call (within the command deadline) and the look-up after a failure
/// (another deadline).
const ONE_SHOT_TTL: Duration = Duration::from_secs(5);

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
    /// Replaced when the cluster link stops answering (see [`sharded`]); take it with
    /// [`Shared::commands`].
    commands: RwLock<link::Commands>,
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
    /// Pub/sub links found lost or silent and opened anew.
    relinks: AtomicU64,
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
            commands: RwLock::new(commands),
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
            relinks: AtomicU64::new(0),
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
    /// The command connection (a handle: clones share the connection).
    fn commands(&self) -> link::Commands {
        self.commands
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

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

    /// What a publish is remembered by, beside its channel's keys: its idempotency key, or
    /// without one the one-shot key of its token.
    fn remembered_by(
        &self,
        channel: &Channel,
        key: Option<&IdempotencyKey>,
        token: &str,
    ) -> String {
        match key {
            Some(key) => format!("{}:{{{channel}}}:key:{}", self.config.prefix, key.as_str()),
            None => format!("{}:{{{channel}}}:once:{token}", self.config.prefix),
        }
    }

    /// After a publish failed: whether it stored the event after all, as
    /// `(epoch, seq, at, 0)`. A late answer stands (the script may still run). Otherwise the
    /// key of the call, written by the script, tells: after a broken connection, whether the
    /// script ran before it broke; after a refusal on a cluster, whether an earlier attempt
    /// ran (the cluster client tries a command again when its connection dropped, so its last
    /// failure may hide one). One server runs each command at most once: a refusal there
    /// stands as it is.
    async fn stored_after_all(
        &self,
        remembered_by: &str,
        token: &str,
        failed: Failed,
    ) -> Result<(String, u64, i64, u8), HubError> {
        let not_found = match failed {
            Failed::NotRun(error) if self.cluster() => error,
            Failed::Broken => Failed::Broken.into_error(),
            other => return Err(other.into_error()),
        };
        let mut commands = self.commands();
        let mut get = redis::cmd("GET");
        get.arg(remembered_by);
        let found = tokio::time::timeout(
            COMMAND_TIMEOUT,
            get.query_async::<Option<String>>(&mut commands),
        )
        .await;
        let Ok(Ok(found)) = found else {
            return Err(HubError::Unknown(
                "Redis failed and could not say whether the event was stored".to_owned(),
            ));
        };
        // `<epoch>-<seq> <at> <token>`, see publish.lua.
        let stored = found.as_deref().and_then(|value| {
            let mut parts = value.split(' ');
            let (id, at, by) = (parts.next()?, parts.next()?, parts.next()?);
            let (epoch, seq) = id.rsplit_once('-')?;
            (by == token).then_some((epoch.to_owned(), seq.parse().ok()?, at.parse().ok()?, 0))
        });
        stored.ok_or(not_found)
    }

    /// How long keys live after their last use, in milliseconds (at least a second, so a
    /// `history_ttl_ms` of 0 still keeps the epoch between two calls).
    fn key_ttl_ms(&self) -> u64 {
        self.config.history_ttl_ms.max(1000)
    }

    /// Runs one script invocation with a deadline; a failure is [`HubError::Unavailable`]
    /// when the command surely did not run, [`HubError::Unknown`] when it may have.
    async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, HubError> {
        self.attempt(invocation).await.map_err(Failed::into_error)
    }

    /// Like [`Shared::invoke`], saying how the command failed.
    async fn attempt<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, Failed> {
        let mut commands = self.commands();
        // Only two failures prove that the command did not run: no connection could be made,
        // or Redis answered with an error. Anything else may have reached Redis first.
        match tokio::time::timeout(COMMAND_TIMEOUT, invocation.invoke_async(&mut commands)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) if e.is_connection_refusal() => {
                Err(Failed::NotRun(unavailable("cannot reach Redis")))
            }
            Ok(Err(e)) if e.is_timeout() => Err(Failed::Late),
            Ok(Err(e)) if e.is_io_error() || e.is_connection_dropped() => Err(Failed::Broken),
            Ok(Err(e)) => {
                // Not a connection problem: worth a line in the log, but not the details
                // in the answer to the client.
                rocket::error!("Redis refused a hub command: {e}");
                Err(Failed::NotRun(unavailable("Redis refused the command")))
            }
            Err(_) => Err(Failed::Late),
        }
    }
}

/// How a command failed.
enum Failed {
    /// Redis answered an error or could not be reached: the command did not run (on one
    /// server; the cluster client may have tried it before, see `stored_after_all`).
    NotRun(HubError),
    /// The connection broke before the answer came: the command may have run.
    Broken,
    /// No answer within the deadline: the command may have run, or may still.
    Late,
}

impl Failed {
    fn into_error(self) -> HubError {
        match self {
            Failed::NotRun(error) => error,
            Failed::Broken | Failed::Late => {
                HubError::Unknown("Redis did not answer in time".to_owned())
            }
        }
    }
}

/// A token no other publish draws: 20 letters and digits.
fn one_shot_token() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
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
        // A token of this call only: a retry of it stores nothing (see publish.lua).
        let token = one_shot_token();
        let remembered_by = shared.remembered_by(channel, key, &token);
        let mut invocation = shared.publish.prepare_invoke();
        shared.site_keys(&mut invocation, channel);
        invocation.key(&remembered_by);
        let ttl_ms = key.map_or(ONE_SHOT_TTL, IdempotencyKey::ttl).as_millis();
        invocation
            .arg(EventId::new_epoch())
            .arg(data.as_str())
            .arg(shared.config.history)
            .arg(shared.config.history_ttl_ms)
            .arg(shared.key_ttl_ms())
            .arg(shared.topic(channel))
            .arg(shared.config.history_bytes)
            .arg(bucket(channel))
            .arg(&token)
            .arg(u64::try_from(ttl_ms).unwrap_or(u64::MAX))
            .arg(if shared.cluster() {
                "SPUBLISH"
            } else {
                "PUBLISH"
            });
        let (epoch, seq, at, duplicate) = match shared.attempt(&invocation).await {
            Ok(answer) => answer,
            Err(failed) => {
                shared
                    .stored_after_all(&remembered_by, &token, failed)
                    .await?
            }
        };
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
            relinks: shared.relinks.load(Ordering::Relaxed),
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
