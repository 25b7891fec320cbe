//! Typed configuration for our own keys in `Rocket.toml`.
//!
//! Each section (`hub`, `ticker`, `publish`) is read from Rocket's Figment when the app
//! ignites, so every key can be overridden from the environment (`ROCKET_HUB={history=50}`)
//! and a bad value stops the launch with Figment's own message.

use std::time::Duration;

use rocket::figment::Figment;
use serde::Deserialize;

/// Which storage and fan-out engine the event hub uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Everything in this process: the default, and the reference for other backends.
    Memory,
}

/// `[default.hub]`: the event hub and its replay buffer.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    pub backend: Backend,
    /// How many events each channel keeps for replay.
    pub history: usize,
    /// How old (in seconds) a replayable event may be.
    pub history_ttl: u64,
    /// How many channels may exist at once; creating one more answers 503.
    pub max_channels: usize,
    /// How many live events a subscriber may fall behind before it is cut off.
    pub subscriber_queue: usize,
    /// How often (in seconds) idle channels are swept away.
    pub sweep_interval: u64,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            backend: Backend::Memory,
            history: 1000,
            history_ttl: 600,
            max_channels: 10_000,
            subscriber_queue: 256,
            sweep_interval: 30,
        }
    }
}

impl HubConfig {
    pub fn history_ttl(&self) -> Duration {
        Duration::from_secs(self.history_ttl)
    }
}

/// `[default.ticker]`: the demo clock that publishes "At <time>" events.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TickerConfig {
    pub enabled: bool,
    pub channel: String,
    /// Shortest pause between two ticks, in milliseconds.
    pub min_ms: u64,
    /// Longest pause between two ticks, in milliseconds.
    pub max_ms: u64,
}

impl Default for TickerConfig {
    fn default() -> Self {
        TickerConfig {
            enabled: true,
            channel: "demo".into(),
            min_ms: 1000,
            max_ms: 3000,
        }
    }
}

/// `[default.publish]`: the publish API.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishConfig {
    /// Largest accepted request body, in bytes.
    pub max_body: u64,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            max_body: 16 * 1024,
        }
    }
}

/// Reads one section of our configuration, with defaults for missing keys, and checks it.
pub fn section<T: for<'de> Deserialize<'de> + Default>(
    figment: &Figment,
    key: &str,
) -> Result<T, String> {
    if figment.find_value(key).is_err() {
        return Ok(T::default());
    }
    figment
        .extract_inner(key)
        .map_err(|e| format!("bad `{key}` configuration: {e}"))
}

impl HubConfig {
    /// Rejects values that would make the hub useless.
    pub fn check(self) -> Result<Self, String> {
        if self.history == 0 || self.max_channels == 0 || self.subscriber_queue == 0 {
            return Err(
                "hub.history, hub.max_channels and hub.subscriber_queue must be > 0".into(),
            );
        }
        if self.sweep_interval == 0 {
            return Err("hub.sweep_interval must be at least 1 second".into());
        }
        Ok(self)
    }
}

impl TickerConfig {
    /// Rejects an empty or reversed interval.
    pub fn check(self) -> Result<Self, String> {
        if self.min_ms == 0 || self.min_ms > self.max_ms {
            return Err("ticker.min_ms must be > 0 and no larger than ticker.max_ms".into());
        }
        Ok(self)
    }
}
