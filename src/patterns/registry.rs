//! The running patterns: at most `[patterns] max_running` at once, one task each. A task
//! ticks through [`ticker::run`] until its channel has had no listener for `idle_ms`, its
//! pattern is replaced, or the server shuts down; then it takes itself off the list.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Pattern;
use crate::access::audience::Audience;
use crate::config::PatternsConfig;
use crate::hub::{Channel, Hub};
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
    audience: Audience,
    /// Cancelled at shutdown; every run's token is a child of it.
    closing: CancellationToken,
    tasks: TaskTracker,
}

/// The running patterns of every channel (cheap to clone).
#[derive(Debug, Clone)]
pub struct Registry(Arc<Inner>);

/// A new pattern was refused: `max_running` patterns run already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full(pub usize);

impl Registry {
    pub fn new(config: PatternsConfig, audience: Audience) -> Registry {
        Registry(Arc::new(Inner {
            runs: Mutex::new(Runs::default()),
            config,
            audience,
            closing: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }))
    }

    fn runs(&self) -> MutexGuard<'_, Runs> {
        // Every change to the list is made in one piece under the lock, so a panic elsewhere
        // cannot leave it half-changed.
        self.0.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pattern running on `channel`, `Quiet` when none is.
    pub fn get(&self, channel: &Channel) -> Pattern {
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

    /// How many patterns run now.
    pub fn running(&self) -> usize {
        self.runs().by_channel.len()
    }

    /// Runs `pattern` on `channel` from now on, in place of whatever ran there; the same
    /// pattern again keeps its run (and its tick count). Counts as a read of the channel, so
    /// the pattern gets `idle_ms` for a listener to come. `Quiet` stops the run.
    pub fn set(&self, hub: &Hub, channel: &Channel, pattern: Pattern) -> Result<(), Full> {
        self.0.audience.heard(channel);
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
        if !replacing && runs.by_channel.len() >= self.0.config.max_running {
            return Err(Full(self.0.config.max_running));
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
            Pattern::Ticker => Some(Pace::between(config.ticker_min_ms, config.ticker_max_ms)),
        }
    }

    /// Starts the task of `run`.
    fn spawn(&self, hub: &Hub, channel: &Channel, run: &Run, pace: Pace) {
        let (registry, hub, channel) = (self.clone(), Arc::clone(hub), channel.clone());
        let (id, stop) = (run.id, run.stop.clone());
        self.0.tasks.spawn(async move {
            let audience = &registry.0.audience;
            let idle = registry.0.config.idle();
            let until = async {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = audience.gone(&channel, idle) => {}
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

    /// Stops every run, refuses none afterwards (they stop at once), and waits for the tasks
    /// to end.
    pub async fn close(&self) {
        self.0.closing.cancel();
        self.0.tasks.close();
        self.0.tasks.wait().await;
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
