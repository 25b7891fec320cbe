//! The ticker: the demo's source of events, like the article's demo server.
//!
//! After liftoff it publishes `"At <local time>"` on its channel at random intervals between
//! `ticker.min_ms` and `ticker.max_ms`, until the server shuts down. Tests turn it off.

use std::time::Duration;

use crate::config::{self, TickerConfig};
use crate::hub::{Channel, Hub, Payload};
use rand::Rng;
use rocket::fairing::AdHoc;

/// The text of one tick, in the article's style ("At Sun Jun 05 15:17:14 EDT 2011").
pub fn tick_text(now: chrono::DateTime<chrono::Local>) -> String {
    format!("At {}", now.format("%a %b %d %H:%M:%S %Z %Y"))
}

/// Reads `[ticker]` and, when enabled, starts publishing once the server is up.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Ticker", |rocket| async {
        let config = config::section::<TickerConfig>(rocket.figment(), "ticker")
            .and_then(TickerConfig::check)
            .and_then(|c| Channel::parse(&c.channel).map(|ch| (c, ch)));
        let (config, channel) = match config {
            Ok(ok) => ok,
            Err(message) => {
                rocket::error!("bad `ticker` configuration: {message}");
                return Err(rocket);
            }
        };
        if !config.enabled {
            return Ok(rocket);
        }
        Ok(
            rocket.attach(AdHoc::on_liftoff("Ticker loop", move |rocket| {
                let hub = rocket.state::<Hub>().cloned();
                let shutdown = rocket.shutdown();
                Box::pin(async move {
                    let Some(hub) = hub else { return };
                    rocket::tokio::spawn(async move {
                        tokio::pin!(shutdown);
                        loop {
                            let pause = rand::thread_rng().gen_range(config.min_ms..=config.max_ms);
                            tokio::select! {
                                _ = tokio::time::sleep(Duration::from_millis(pause)) => {}
                                _ = &mut shutdown => break,
                            }
                            let text = Payload::text(&tick_text(chrono::Local::now()));
                            if let Err(error) = hub.publish(&channel, text).await {
                                rocket::warn!("ticker could not publish: {error}");
                            }
                        }
                    });
                })
            })),
        )
    })
}
