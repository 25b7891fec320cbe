//! Typed configuration for our own keys in `Rocket.toml`.
//!
//! Each table of ours is a [`Section`]: its name, its defaults (the type's `Default`, which
//! fills in every missing key) and its check. Every feature's `stage()` reads its sections
//! the same way, through [`stage`]: [`read`] from Rocket's Figment when the app ignites (so
//! every key can be overridden from the environment, `ROCKET_HUB={history=50}`), check, and
//! on a bad value one error line naming the key, which stops the launch. Every duration is
//! in milliseconds, in a key ending in `_ms`; a key that was renamed stops the launch with a
//! message naming its new name instead of being ignored.

use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::figment::providers::{Env, Format, Toml};
use rocket::figment::{self, Figment, Profile};
use rocket::{Build, Rocket};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// One table of our configuration: `[default.<NAME>]` in `Rocket.toml`, or `ROCKET_<NAME>`.
pub trait Section: DeserializeOwned + Default {
    /// The table's name, e.g. `hub`.
    const NAME: &'static str;

    /// Keys this table no longer reads, each with the full name of the key that replaced it
    /// (`("history_ttl", "hub.history_ttl_ms")`). Setting one stops the launch.
    const RENAMED: &'static [(&'static str, &'static str)] = &[];

    /// Rejects values the feature cannot work with; the message names the key.
    fn check(self) -> Result<Self, String> {
        Ok(self)
    }
}

/// Reads one section: refuses renamed keys, fills in defaults for missing keys, refuses
/// unknown keys and values of the wrong type, and checks the rest.
pub fn read<S: Section>(figment: &Figment) -> Result<S, String> {
    let name = S::NAME;
    for (old, new) in S::RENAMED {
        if figment.find_value(&format!("{name}.{old}")).is_ok() {
            return Err(format!(
                "`{name}.{old}` is no longer read: set `{new}` instead (every duration is in \
                 milliseconds, in a key ending in `_ms`)"
            ));
        }
    }
    let section: S = match figment.find_value(name) {
        Err(_) => S::default(),
        Ok(value) if value.as_dict().is_none() => {
            let found = value.to_actual();
            return Err(format!(
                "bad configuration `{name}`: found {found}, expected a table of keys"
            ));
        }
        Ok(_) => figment
            .focus(name)
            .extract()
            .map_err(|e| describe(name, &e))?,
    };
    section.check()
}

/// Figment's error as one line: the key in full, what is wrong with it and where the value
/// came from (Figment's own message names the key without its table).
fn describe(name: &str, error: &figment::Error) -> String {
    let key = std::iter::once(name)
        .chain(error.path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(".");
    let from = match &error.metadata {
        Some(metadata) => match &metadata.source {
            Some(source) => format!(" (in {source} {})", metadata.name),
            None => format!(" (in {})", metadata.name),
        },
        None => String::new(),
    };
    format!("bad configuration `{key}`: {}{from}", error.kind)
}

/// The one way a feature reads its configuration: a fairing named `name` that, at ignite,
/// runs `read` on the Figment (usually [`read`] of the feature's section, perhaps with more
/// that can fail, such as opening a file) and hands the result to `build`, which manages
/// state and mounts routes. When `read` fails, its message is logged as one error line and
/// the launch stops.
pub fn stage<T, R, B>(name: &'static str, read: R, build: B) -> AdHoc
where
    T: Send + 'static,
    R: FnOnce(&Figment) -> Result<T, String> + Send + 'static,
    B: FnOnce(Rocket<Build>, T) -> Rocket<Build> + Send + 'static,
{
    AdHoc::try_on_ignite(name, move |rocket| async move {
        match read(rocket.figment()) {
            Ok(value) => Ok(build(rocket, value)),
            Err(message) => {
                rocket::error!("{message}");
                Err(rocket)
            }
        }
    })
}

/// Rocket's configuration (`Rocket.toml`, then `ROCKET_*` variables) over Rocket's defaults,
/// with one default of ours: no `shutdown.mercy`. Rocket's 3 s of mercy only serve clients
/// that stopped reading (every other connection has its last frame within the grace period),
/// and a shutdown is promised within the grace period plus a second.
pub fn figment() -> Figment {
    let defaults = rocket::Config {
        shutdown: rocket::config::Shutdown {
            mercy: 0,
            ..rocket::config::Shutdown::default()
        },
        ..rocket::Config::default()
    };
    Figment::from(defaults)
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

/// Which storage and fan-out engine the event hub uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Everything in this process: the default, and the reference for other backends.
    Memory,
    /// Redis streams and pub/sub: several instances behind a load balancer act as one hub.
    Redis,
}

/// `[default.hub]`: the event hub and its replay buffer.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    pub backend: Backend,
    /// How many events each channel keeps for replay.
    pub history: usize,
    /// How old a replayable event may be, in milliseconds.
    pub history_ttl_ms: u64,
    /// How many bytes of events each channel keeps for replay (the oldest go first).
    pub history_bytes: usize,
    /// How many bytes of events all channels of this process keep together (memory backend).
    pub max_bytes: usize,
    /// How many channels may exist at once; creating one more answers 503.
    pub max_channels: usize,
    /// How many live events a subscriber may fall behind before it is cut off.
    pub subscriber_queue: usize,
    /// How often idle channels are swept away, in milliseconds.
    pub sweep_interval_ms: u64,
    /// The Redis server of the `redis` backend.
    pub url: String,
    /// Seed nodes of a Redis Cluster for the `redis` backend (`redis://host:port` each); when
    /// given, `url` is not used.
    pub cluster: Vec<String>,
    /// The prefix of every Redis key and pub/sub topic of the `redis` backend, so several
    /// applications (or test runs) can share one server.
    pub prefix: String,
    /// How long (ms) an instance stays subscribed to a channel's live topic after its last
    /// local subscriber left (`redis` backend), so one that comes back soon costs nothing.
    pub unsubscribe_after_ms: u64,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            backend: Backend::Memory,
            history: 1000,
            history_ttl_ms: 600_000,
            history_bytes: 4 << 20,
            max_bytes: 256 << 20,
            max_channels: 10_000,
            subscriber_queue: 256,
            sweep_interval_ms: 30_000,
            url: "redis://127.0.0.1:6379".into(),
            cluster: Vec::new(),
            prefix: "rajax".into(),
            unsubscribe_after_ms: 30_000,
        }
    }
}

impl HubConfig {
    pub fn history_ttl(&self) -> Duration {
        Duration::from_millis(self.history_ttl_ms)
    }

    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.sweep_interval_ms)
    }
}

impl Section for HubConfig {
    const NAME: &'static str = "hub";
    const RENAMED: &'static [(&'static str, &'static str)] = &[
        ("history_ttl", "hub.history_ttl_ms"),
        ("sweep_interval", "hub.sweep_interval_ms"),
    ];

    /// Rejects values that would make the hub useless.
    fn check(self) -> Result<Self, String> {
        if self.history == 0
            || self.history_bytes == 0
            || self.max_bytes == 0
            || self.max_channels == 0
            || self.subscriber_queue == 0
        {
            return Err("hub.history, history_bytes, max_bytes, max_channels and \
                        subscriber_queue must be > 0"
                .into());
        }
        if self.sweep_interval_ms == 0 {
            return Err("hub.sweep_interval_ms must be > 0".into());
        }
        let prefix_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if self.prefix.is_empty() || self.prefix.len() > 64 || !self.prefix.chars().all(prefix_ok) {
            // Also keeps hash tags and pub/sub topics free of braces and glob characters.
            return Err(
                "hub.prefix is 1 to 64 characters from A-Z, a-z, 0-9, '_', '.', '-'".into(),
            );
        }
        Ok(self)
    }
}

/// `[default.ticker]`: the demo clock that publishes "Tick <n>" events on `demo`, and the
/// pace of the visitors' `ticker` pattern.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TickerConfig {
    pub enabled: bool,
    pub channel: String,
    /// Shortest pause between two ticks (of the demo and of the `ticker` pattern), in
    /// milliseconds.
    pub min_ms: u64,
    /// Longest pause between two ticks, in milliseconds.
    pub max_ms: u64,
}

impl Default for TickerConfig {
    fn default() -> Self {
        TickerConfig {
            enabled: true,
            channel: crate::wire::visitor::SHARED.into(),
            min_ms: 1000,
            max_ms: 3000,
        }
    }
}

impl Section for TickerConfig {
    const NAME: &'static str = "ticker";

    /// Rejects an empty or reversed interval.
    fn check(self) -> Result<Self, String> {
        if self.min_ms == 0 || self.min_ms > self.max_ms {
            return Err("ticker.min_ms must be > 0 and no larger than ticker.max_ms".into());
        }
        Ok(self)
    }
}

/// `[default.patterns]`: the event patterns visitors choose for their own channels.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatternsConfig {
    /// How many visitor channels may run a pattern at once; 0 turns patterns off.
    pub max_running: usize,
    /// How long a pattern goes on after the last listener of its channel left, in
    /// milliseconds.
    pub idle_ms: u64,
    /// The pause of the `every-10s` pattern, in milliseconds.
    pub slow_ms: u64,
    /// Redis backend: how long (ms) an instance's lease on a channel's pattern, and the
    /// pattern's seat among the site's `max_running`, last unless renewed (every third of
    /// it); another instance takes a pattern over within about this long after its holder
    /// died.
    pub lease_ms: u64,
}

impl Default for PatternsConfig {
    fn default() -> Self {
        PatternsConfig {
            max_running: 100,
            idle_ms: 60_000,
            slow_ms: 10_000,
            lease_ms: 3_000,
        }
    }
}

impl PatternsConfig {
    pub fn idle(&self) -> Duration {
        Duration::from_millis(self.idle_ms)
    }

    /// How often an instance renews its leases and marks its listeners in Redis.
    pub fn beat(&self) -> Duration {
        Duration::from_millis(self.lease_ms / 3)
    }
}

impl Section for PatternsConfig {
    const NAME: &'static str = "patterns";
    /// The `ticker` pattern keeps the demo ticker's pace.
    const RENAMED: &'static [(&'static str, &'static str)] = &[
        ("ticker_min_ms", "ticker.min_ms"),
        ("ticker_max_ms", "ticker.max_ms"),
    ];

    /// Rejects zero pauses (they would spin) and a lease too short to renew.
    fn check(self) -> Result<Self, String> {
        if self.idle_ms == 0 || self.slow_ms == 0 {
            return Err("patterns.idle_ms and patterns.slow_ms must be > 0".into());
        }
        if self.lease_ms < 300 {
            return Err("patterns.lease_ms must be at least 300".into());
        }
        Ok(self)
    }
}

/// `[default.publish]`: the publish API.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishConfig {
    /// Largest accepted request body, in bytes.
    pub max_body: u64,
    /// How long an `Idempotency-Key` is remembered per channel, in milliseconds.
    pub idempotency_ttl_ms: u64,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            max_body: 16 * 1024,
            idempotency_ttl_ms: 300_000,
        }
    }
}

impl PublishConfig {
    pub fn idempotency_ttl(&self) -> Duration {
        Duration::from_millis(self.idempotency_ttl_ms)
    }
}

impl Section for PublishConfig {
    const NAME: &'static str = "publish";
    const RENAMED: &'static [(&'static str, &'static str)] =
        &[("idempotency_ttl", "publish.idempotency_ttl_ms")];

    /// Rejects a zero key lifetime, which would make every key useless.
    fn check(self) -> Result<Self, String> {
        if self.idempotency_ttl_ms == 0 {
            return Err("publish.idempotency_ttl_ms must be > 0".into());
        }
        Ok(self)
    }
}

/// `[default.push]`: streams and held requests.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// The longest a long poll is held, in milliseconds, whatever the client asks.
    pub long_poll_max_ms: u64,
    /// While a long poll is held, how often a single space is written to learn whether the
    /// client is still there, in milliseconds.
    pub probe_ms: u64,
    /// Quiet time after which a stream sends a heartbeat, in milliseconds.
    pub heartbeat_ms: u64,
    /// The reconnection delay suggested to EventSource clients, in milliseconds.
    pub retry_ms: u64,
    /// Bytes after which a forever-iframe document ends so the browser can free it.
    pub iframe_budget: usize,
    /// Quiet time after which a WebSocket sends a heartbeat (a ping and a heartbeat text
    /// frame), in milliseconds.
    pub ws_ping_ms: u64,
    /// The largest WebSocket message accepted from a browser, in bytes (larger: close 1009).
    pub ws_max_message: usize,
    /// Origins besides this site's own that may open a WebSocket (e.g. "https://example.org").
    pub allowed_origins: Vec<String>,
    /// A write to a client that has not completed after this many milliseconds ends the
    /// connection, so a client that stops reading cannot hold its socket and buffers.
    pub write_timeout_ms: u64,
    /// Mounts `/push/<ch>/echo`, a WebSocket that sends back what it receives, for the
    /// conformance suite (`scripts/autobahn`). Off in every real configuration.
    pub ws_echo: bool,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            long_poll_max_ms: 25_000,
            probe_ms: 1_000,
            heartbeat_ms: 15_000,
            retry_ms: 2_000,
            iframe_budget: 256 * 1024,
            ws_ping_ms: 25_000,
            ws_max_message: 16 * 1024,
            allowed_origins: Vec::new(),
            write_timeout_ms: 10_000,
            ws_echo: false,
        }
    }
}

impl PushConfig {
    pub fn long_poll_max(&self) -> Duration {
        Duration::from_millis(self.long_poll_max_ms)
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    pub fn probe(&self) -> Duration {
        Duration::from_millis(self.probe_ms)
    }

    pub fn ws_ping(&self) -> Duration {
        Duration::from_millis(self.ws_ping_ms)
    }

    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }
}

impl Section for PushConfig {
    const NAME: &'static str = "push";

    /// Rejects zero durations, which would spin.
    fn check(self) -> Result<Self, String> {
        if self.long_poll_max_ms == 0
            || self.heartbeat_ms == 0
            || self.probe_ms == 0
            || self.ws_ping_ms == 0
            || self.ws_max_message == 0
            || self.write_timeout_ms == 0
            || self.iframe_budget < 2048
        {
            return Err(
                "push.long_poll_max_ms, probe_ms, heartbeat_ms, ws_ping_ms, ws_max_message and \
                        write_timeout_ms must be > 0, push.iframe_budget at least 2048"
                    .into(),
            );
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_section_is_its_defaults() {
        let hub = read::<HubConfig>(&Figment::new()).expect("the defaults");
        assert_eq!(hub.history_ttl(), Duration::from_secs(600));
        assert_eq!(hub.sweep_interval(), Duration::from_secs(30));
    }

    #[test]
    fn missing_keys_take_their_defaults() {
        let figment = Figment::new().merge(("hub.history", 5));
        let hub = read::<HubConfig>(&figment).expect("a valid section");
        assert_eq!((hub.history, hub.history_ttl_ms), (5, 600_000));
    }

    #[test]
    fn a_renamed_key_stops_the_read_with_its_new_name() {
        let figment = Figment::new().merge(("hub.history_ttl", 600));
        let error = read::<HubConfig>(&figment).expect_err("an old key is refused");
        assert!(error.contains("`hub.history_ttl`"), "{error}");
        assert!(error.contains("`hub.history_ttl_ms`"), "{error}");
        let figment = Figment::new().merge(("patterns.ticker_min_ms", 10));
        let error = read::<PatternsConfig>(&figment).expect_err("a moved key is refused");
        assert!(error.contains("`ticker.min_ms`"), "{error}");
    }

    #[test]
    fn an_unknown_key_and_a_bad_value_are_refused_with_the_key() {
        let figment = Figment::new().merge(("publish.max_bodyy", 5));
        let error = read::<PublishConfig>(&figment).expect_err("an unknown key");
        assert!(error.contains("max_bodyy"), "{error}");
        let figment = Figment::new().merge(("publish.max_body", "lots"));
        let error = read::<PublishConfig>(&figment).expect_err("a string for a number");
        assert!(error.contains("publish.max_body"), "{error}");
    }

    #[test]
    fn a_section_that_is_not_a_table_is_refused() {
        let figment = Figment::new().merge(("hub", 5));
        let error = read::<HubConfig>(&figment).expect_err("a number for a table");
        assert!(error.contains("`hub`"), "{error}");
    }

    #[test]
    fn the_check_runs_after_the_read() {
        let figment = Figment::new().merge(("hub.sweep_interval_ms", 0));
        let error = read::<HubConfig>(&figment).expect_err("a zero sweep interval");
        assert!(error.contains("hub.sweep_interval_ms"), "{error}");
    }
}
