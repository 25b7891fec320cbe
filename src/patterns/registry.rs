//! The running patterns: at most `[patterns] max_running` at once, one task each. A task
//! ticks through [`ticker::run`] until its channel has had no listener for `idle_ms`, its
//! pattern is replaced, or the server shuts down; then it takes itself off the list.
//!
//! On the memory backend that is all, per process. On Redis the choice, the audience and the
//! count live in Redis ([`Choices`]) and this list holds only the runs whose lease this
//! instance holds; [`super::shared`] keeps both in step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Pattern;
use crate::access::audience::Audience;
use crate::config::PatternsConfig;
use crate::hub::redis::{Choices, Timing};
use crate::hub::{Channel, Hub, HubError};
use crate::ticker::{self, Pace};

/// One running pattern.
#[derive(Debug)]
struct Run {
    /// Tells this run apart from a later one on the same channel.
    id: u64,
    pattern: Pattern,
    stop: CancellationToken,
}

#[derive(Debug, Default)]
struct Runs {
    by_channel: HashMap<Channel, Run>,
    next_id: u64,
}

#[derive(Debug)]
struct Inner {
    runs: Mutex<Runs>,
    config: PatternsConfig,
    /// The pace of the `ticker` pattern: the demo ticker's (`[ticker] min_ms`, `max_ms`).
    ticker: Pace,
    audience: Audience,
    /// Cancelled at shutdown; every run's token is a child of it.
    closing: CancellationToken,
    tasks: TaskTracker,
    /// On Redis: the shared choices and this instance's name in them.
    site: Option<Site>,
}

/// The shared side of the patterns (Redis backend).
#[derive(Debug)]
pub(super) struct Site {
    pub(super) choices: Choices,
    /// This instance, as the holder of leases and a member of audiences.
    pub(super) me: String,
}

/// The running patterns of every channel (cheap to clone).
#[derive(Debug, Clone)]
pub struct Registry(Arc<Inner>);

/// Why a new pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `max_running` patterns run already (on the site, with Redis).
    Full(usize),
    /// Redis could not keep the choice.
    Hub(HubError),
}

impl From<HubError> for Refusal {
    fn from(error: HubError) -> Refusal {
        Refusal::Hub(error)
    }
}

impl Registry {
    /// The registry of one process, or of the site when `choices` (Redis) are given; the
    /// `ticker` pattern keeps the pace `ticker`.
    pub fn new(
        config: PatternsConfig,
        ticker: Pace,
        audience: Audience,
        choices: Option<Choices>,
    ) -> Registry {
        let site = choices.map(|choices| Site {
            choices,
            me: format!("{:016x}", rand::random::<u64>()),
        });
        Registry(Arc::new(Inner {
            runs: Mutex::new(Runs::default()),
            config,
            ticker,
            audience,
            closing: CancellationToken::new(),
            tasks: TaskTracker::new(),
            site,
        }))
    }

    pub(super) fn site(&self) -> Option<&Site> {
        self.0.site.as_ref()
    }

    pub(super) fn config(&self) -> &PatternsConfig {
        &self.0.config
    }

    pub(super) fn audience(&self) -> &Audience {
        &self.0.audience
    }

    pub(super) fn closing(&self) -> &CancellationToken {
        &self.0.closing
    }

    /// The timing of the shared choices.
    pub(super) fn timing(&self) -> Timing {
        Timing {
            idle_ms: self.0.config.idle_ms,
            lease_ms: self.0.config.lease_ms,
        }
    }

    fn runs(&self) -> MutexGuard<'_, Runs> {
        // Every change to the list is made in one piece under the lock, so a panic elsewhere
        // cannot leave it half-changed.
        self.0.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pattern running on `channel`, `Quiet` when none is (on Redis, as every instance
    /// sees it).
    pub async fn get(&self, channel: &Channel) -> Result<Pattern, HubError> {
        match self.site() {
            Some(site) => {
                let name = site.choices.get(channel, self.timing()).await?;
                Ok(name
                    .and_then(|n| Pattern::parse(&n).ok())
                    .unwrap_or(Pattern::Quiet))
            }
            None => Ok(self.here(channel)),
        }
    }

    /// The pattern this process runs on `channel`, `Quiet` when none.
    pub fn here(&self, channel: &Channel) -> Pattern {
        self.runs()
            .by_channel
            .get(channel)
            .map_or(Pattern::Quiet, |run| run.pattern)
    }

    /// The `Retry-After` of a refusal, in seconds: by then a pattern nobody listens to has
    /// stopped.
    pub fn retry_after(&self) -> u64 {
        self.0.config.idle_ms.div_ceil(1000).max(1)
    }

    /// How many patterns this process runs now.
    pub fn running(&self) -> usize {
        self.runs().by_channel.len()
    }

    /// The channels this process runs a pattern on.
    pub(super) fn channels(&self) -> Vec<Channel> {
        self.runs().by_channel.keys().cloned().collect()
    }

    /// Runs `pattern` on `channel` from now on, in place of whatever ran there; the same
    /// pattern again keeps its run (and its tick count). Counts as a read of the channel, so
    /// the pattern gets `idle_ms` for a listener to come. `Quiet` stops the run. On Redis the
    /// choice is the site's (see [`super::shared::set`]).
    pub async fn set(&self, hub: &Hub, channel: &Channel, pattern: Pattern) -> Result<(), Refusal> {
        self.0.audience.heard(channel);
        if self.site().is_some() {
            return super::shared::set(self, hub, channel, pattern).await;
        }
        self.run_here(hub, channel, pattern, true)
    }

    /// Runs `pattern` on `channel` in this process (see [`Registry::set`]); `counted` checks
    /// `max_running` here (the site counts its own on Redis).
    pub(super) fn run_here(
        &self,
        hub: &Hub,
        channel: &Channel,
        pattern: Pattern,
        counted: bool,
    ) -> Result<(), Refusal> {
        let mut runs = self.runs();
        if runs
            .by_channel
            .get(channel)
            .is_some_and(|run| run.pattern == pattern)
        {
            return Ok(());
        }
        let Some(pace) = self.pace(pattern) else {
            if let Some(old) = runs.by_channel.remove(channel) {
                old.stop.cancel();
            }
            return Ok(());
        };
        let replacing = runs.by_channel.contains_key(channel);
        if counted && !replacing && runs.by_channel.len() >= self.0.config.max_running {
            return Err(Refusal::Full(self.0.config.max_running));
        }
        runs.next_id += 1;
        let run = Run {
            id: runs.next_id,
            pattern,
            stop: self.0.closing.child_token(),
        };
        self.spawn(hub, channel, &run, pace);
        if let Some(old) = runs.by_channel.insert(channel.clone(), run) {
            old.stop.cancel();
        }
        Ok(())
    }

    /// The pauses of `pattern`; `None` for `Quiet`, which publishes nothing.
    fn pace(&self, pattern: Pattern) -> Option<Pace> {
        let config = &self.0.config;
        match pattern {
            Pattern::Quiet => None,
            Pattern::Every10s => Some(Pace::every(config.slow_ms)),
            Pattern::Ticker => Some(self.0.ticker),
        }
    }

    /// Starts the task of `run`.
    fn spawn(&self, hub: &Hub, channel: &Channel, run: &Run, pace: Pace) {
        let (registry, hub, channel) = (self.clone(), Arc::clone(hub), channel.clone());
        let (id, stop) = (run.id, run.stop.clone());
        self.0.tasks.spawn(async move {
            let audience = &registry.0.audience;
            let idle = registry.0.config.idle();
            // On Redis the site's audience decides, through the beat that cancels `stop`.
            let shared = registry.site().is_some();
            let until = async {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = audience.gone(&channel, idle), if !shared => {}
                }
            };
            ticker::run(&hub, &channel, pace, until).await;
            registry.finished(&channel, id);
            // Wakes whoever waits in `stopped`, however the run ended.
            stop.cancel();
        });
    }

    /// Takes run `id` off the list, unless another run replaced it.
    fn finished(&self, channel: &Channel, id: u64) {
        let mut runs = self.runs();
        if runs.by_channel.get(channel).is_some_and(|run| run.id == id) {
            runs.by_channel.remove(channel);
        }
    }

    /// Stops the run on `channel` here, if any; true if there was one.
    pub(super) fn stop_here(&self, channel: &Channel) -> bool {
        let run = self.runs().by_channel.remove(channel);
        run.map(|run| run.stop.cancel()).is_some()
    }

    /// Stops every run, refuses none afterwards (they stop at once), and waits for the tasks
    /// to end. On Redis it gives up this instance's leases, so another instance takes the
    /// patterns over at its next beat.
    pub async fn close(&self) {
        let held = self.channels();
        self.0.closing.cancel();
        self.0.tasks.close();
        self.0.tasks.wait().await;
        if let Some(site) = self.site() {
            for channel in held {
                if let Err(error) = site
                    .choices
                    .release(&channel, &site.me, self.timing())
                    .await
                {
                    rocket::warn!("could not give up the pattern lease of `{channel}`: {error}");
                }
            }
        }
    }

    /// Completes when the run now on `channel` is over (at once if none runs), however it
    /// ends: idle, replaced, stopped or at shutdown.
    pub async fn stopped(&self, channel: &Channel) {
        let stop = self
            .runs()
            .by_channel
            .get(channel)
            .map(|run| run.stop.clone());
        if let Some(stop) = stop {
            stop.cancelled().await;
        }
    }
}
