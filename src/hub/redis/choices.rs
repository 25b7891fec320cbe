//! What visitors choose, shared by every instance through Redis (see `patterns`): a visitor
//! channel's pattern, its audience and the lease of the one instance that runs it.
//!
//! Keys, for a channel `<ch>` under the prefix `<p>`, all in the channel's slot:
//! - `<p>:{<ch>}:pattern`, the name of the pattern chosen;
//! - `<p>:{<ch>}:audience`, a sorted set: each instance and when it last had a listener;
//! - `<p>:{<ch>}:lease`, the instance that runs the pattern, for `lease_ms` at a time.
//!
//! and `<p>:{patterns}:running`, the site's seats (`max_running` of them): a sorted set of
//! the channels whose pattern runs, each with when its seat lapses. It lives in a slot of its
//! own, so on a cluster no script can take it with a channel's keys: the seat is taken by one
//! command (`seats.lua`, atomic, so the count is never exceeded) and the pattern stored by
//! another (`choice.lua`). Between the two a seat may be held for a pattern that was never
//! stored or has just stopped; it lapses after `lease_ms` unless renewed, so the cost of the
//! race is a refusal a few seconds too early, never one pattern too many.

use std::sync::Arc;

use super::{Shared, unavailable};
use crate::hub::{Channel, HubError};

/// The shared choices of one hub (cheap to clone).
#[derive(Clone)]
pub struct Choices {
    shared: Arc<Shared>,
    choice: Arc<redis::Script>,
    seats: Arc<redis::Script>,
}

/// What an instance learns of a channel: the pattern chosen (`None` when none runs) and
/// whether this instance holds its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub pattern: Option<String>,
    pub held: bool,
}

/// The timing of shared patterns: how long a channel without listeners keeps its pattern,
/// and how long a lease or a seat lasts unless renewed.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub idle_ms: u64,
    pub lease_ms: u64,
}

impl std::fmt::Debug for Choices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Choices")
            .field("prefix", &self.shared.config.prefix)
            .finish_non_exhaustive()
    }
}

impl Choices {
    pub(super) fn new(shared: Arc<Shared>) -> Choices {
        Choices {
            shared,
            choice: Arc::new(redis::Script::new(include_str!("choice.lua"))),
            seats: Arc::new(redis::Script::new(include_str!("seats.lua"))),
        }
    }

    fn key(&self, channel: &Channel, what: &str) -> String {
        format!("{}:{{{channel}}}:{what}", self.shared.config.prefix)
    }

    fn seats_key(&self) -> String {
        format!("{}:{{patterns}}:running", self.shared.config.prefix)
    }

    async fn run(
        &self,
        channel: &Channel,
        mode: &str,
        me: &str,
        arg: &str,
        timing: Timing,
    ) -> Result<Lease, HubError> {
        let mut invocation = self.choice.prepare_invoke();
        invocation
            .key(self.key(channel, "pattern"))
            .key(self.key(channel, "audience"))
            .key(self.key(channel, "lease"))
            .arg(mode)
            .arg(me)
            .arg(arg)
            .arg(timing.idle_ms)
            .arg(timing.lease_ms);
        let (name, held): (String, u8) = self.shared.invoke(&invocation).await?;
        Ok(Lease {
            pattern: (!name.is_empty()).then_some(name),
            held: held == 1,
        })
    }

    /// Stores `pattern` (`"quiet"` clears it) as chosen by instance `me`, which counts as a
    /// listen there, and takes the lease for `me` if nobody holds it.
    pub async fn set(
        &self,
        channel: &Channel,
        me: &str,
        pattern: &str,
        timing: Timing,
    ) -> Result<Lease, HubError> {
        self.run(channel, "set", me, pattern, timing).await
    }

    /// The pattern that runs on `channel` now, as every instance sees it.
    pub async fn get(&self, channel: &Channel, timing: Timing) -> Result<Option<String>, HubError> {
        Ok(self.run(channel, "get", "", "", timing).await?.pattern)
    }

    /// Marks that `me` had a listener on `channel` `ago_ms` ago (if it had one), and takes or
    /// renews the lease for `me` if nobody else holds it. A channel nobody anywhere has
    /// listened to for `idle_ms` loses its pattern here.
    pub async fn beat(
        &self,
        channel: &Channel,
        me: &str,
        ago_ms: Option<u64>,
        timing: Timing,
    ) -> Result<Lease, HubError> {
        let ago = ago_ms.map_or(String::new(), |ms| ms.to_string());
        self.run(channel, "beat", me, &ago, timing).await
    }

    /// Gives up the lease of `channel` if `me` holds it.
    pub async fn release(
        &self,
        channel: &Channel,
        me: &str,
        timing: Timing,
    ) -> Result<(), HubError> {
        self.run(channel, "release", me, "", timing).await.map(drop)
    }

    /// Takes or renews `channel`'s seat among the site's `max` running patterns for
    /// `lease_ms`; false when all are taken.
    pub async fn seat(
        &self,
        channel: &Channel,
        max: usize,
        timing: Timing,
    ) -> Result<bool, HubError> {
        let mut invocation = self.seats.prepare_invoke();
        invocation
            .key(self.seats_key())
            .arg(channel.as_str())
            .arg(max)
            .arg(timing.lease_ms);
        let taken: u8 = self.shared.invoke(&invocation).await?;
        Ok(taken == 1)
    }

    /// Gives up `channel`'s seat.
    pub async fn unseat(&self, channel: &Channel) -> Result<(), HubError> {
        let mut commands = self.shared.commands();
        let command = redis::cmd("ZREM")
            .arg(self.seats_key())
            .arg(channel.as_str())
            .to_owned();
        let removed: Result<i64, _> =
            tokio::time::timeout(super::COMMAND_TIMEOUT, command.query_async(&mut commands))
                .await
                .map_err(|_| unavailable("Redis did not answer in time"))?;
        removed.map(drop).map_err(|e| {
            rocket::warn!("Redis refused to free a pattern's seat: {e}");
            unavailable("Redis refused the command")
        })
    }
}
