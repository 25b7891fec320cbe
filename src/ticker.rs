//! The ticker: the demo's source of events, like the article's demo server.
//!
//! After liftoff it publishes `"Tick <n>"` on its channel (`demo`) at random intervals
//! between `ticker.min_ms` and `ticker.max_ms`, until the server shuts down. Tests turn it
//! off. The same loop, [`run`], drives the event patterns of visitors' channels
//! ([`crate::patterns`]), whose `ticker` pattern keeps the same pace.

use std::future::Future;
use std::time::Duration;

use crate::config::{self, TickerConfig};
use crate::hub::{Channel, Hub, Payload};
use rand::Rng;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;

/// The text of the `n`th tick of one run, counting from 1. The event's own `at` says when.
pub fn tick_text(n: u64) -> String {
    format!("Tick {n}")
}

/// How long a ticking loop waits before each tick: a random pause between two bounds (equal
/// bounds give a steady beat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    min: Duration,
    max: Duration,
}

impl Pace {
    /// Pauses between `min_ms` and `max_ms` (swapped if reversed).
    pub fn between(min_ms: u64, max_ms: u64) -> Pace {
        Pace {
            min: Duration::from_millis(min_ms.min(max_ms)),
            max: Duration::from_millis(min_ms.max(max_ms)),
        }
    }

    /// The same pause every time.
    pub fn every(ms: u64) -> Pace {
        Pace::between(ms, ms)
    }

    /// The next pause.
    pub fn pause(&self) -> Duration {
        if self.min == self.max {
            return self.min;
        }
        rand::thread_rng().gen_range(self.min..=self.max)
    }
}

/// Publishes `Tick 1`, `Tick 2`, … on `channel`, each after a pause from `pace`, until `stop`
/// completes. Returns how many ticks it published. A tick the hub refuses is logged and
/// skipped; the next one still comes.
pub async fn run(hub: &Hub, channel: &Channel, pace: Pace, stop: impl Future<Output = ()>) -> u64 {
    tokio::pin!(stop);
    let mut ticks = 0;
    loop {
        tokio::select! {
            () = tokio::time::sleep(pace.pause()) => {}
            () = &mut stop => break,
        }
        ticks += 1;
        if let Err(error) = hub.publish(channel, Payload::text(&tick_text(ticks))).await {
            rocket::warn!("the ticker could not publish on `{channel}`: {error}");
        }
    }
    ticks
}

/// `[ticker]` and its channel.
fn read(figment: &Figment) -> Result<(TickerConfig, Channel), String> {
    let config = config::read::<TickerConfig>(figment)?;
    let channel = Channel::parse(&config.channel).map_err(|e| format!("ticker.channel: {e}"))?;
    Ok((config, channel))
}

/// Reads `[ticker]` and, when enabled, starts publishing once the server is up.
pub fn stage() -> AdHoc {
    config::stage("Ticker", read, |rocket, (config, channel)| {
        if !config.enabled {
            return rocket;
        }
        let pace = Pace::between(config.min_ms, config.max_ms);
        rocket.attach(AdHoc::on_liftoff("Ticker loop", move |rocket| {
            let hub = rocket.state::<Hub>().cloned();
            let shutdown = rocket.shutdown();
            Box::pin(async move {
                let Some(hub) = hub else { return };
                rocket::tokio::spawn(async move { run(&hub, &channel, pace, shutdown).await });
            })
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_counted_from_one() {
        assert_eq!(tick_text(1), "Tick 1");
        assert_eq!(tick_text(42), "Tick 42");
    }

    #[test]
    fn a_pace_stays_within_its_bounds() {
        let pace = Pace::between(30, 10);
        for _ in 0..100 {
            let pause = pace.pause();
            assert!((Duration::from_millis(10)..=Duration::from_millis(30)).contains(&pause));
        }
        assert_eq!(Pace::every(7).pause(), Duration::from_millis(7));
    }
}
