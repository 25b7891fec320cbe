//! Our configuration keys: a key of an older version is never ignored; it stops the launch,
//! and the message names the key that replaced it.

use reverse_ajax::config::{self, HubConfig, PatternsConfig, PublishConfig};
use reverse_ajax::experiment::web::ExperimentsConfig;
use rocket::figment::Figment;

/// A reader of one section, its result reduced to the error message.
type Reader = fn(&Figment) -> Result<(), String>;

/// Every renamed key, with its new name and the reader of the section it was in.
const RENAMED: [(&str, &str, Reader); 6] = [
    ("hub.history_ttl", "hub.history_ttl_ms", |f| {
        config::read::<HubConfig>(f).map(drop)
    }),
    ("hub.sweep_interval", "hub.sweep_interval_ms", |f| {
        config::read::<HubConfig>(f).map(drop)
    }),
    (
        "publish.idempotency_ttl",
        "publish.idempotency_ttl_ms",
        |f| config::read::<PublishConfig>(f).map(drop),
    ),
    ("experiments.keep_seconds", "experiments.keep_ms", |f| {
        config::read::<ExperimentsConfig>(f).map(drop)
    }),
    ("patterns.ticker_min_ms", "ticker.min_ms", |f| {
        config::read::<PatternsConfig>(f).map(drop)
    }),
    ("patterns.ticker_max_ms", "ticker.max_ms", |f| {
        config::read::<PatternsConfig>(f).map(drop)
    }),
];

/// `Rocket.toml` as the tests run it, with `key` set.
fn with(key: &str) -> Figment {
    rocket::Config::figment()
        .merge(("ticker.enabled", false))
        .merge(("log_level", "off"))
        .merge((key, 600))
}

#[rocket::async_test]
async fn an_old_key_stops_the_launch_with_a_message_naming_the_new_one() {
    for (old, new, read) in RENAMED {
        let ignited = reverse_ajax::rocket_from(with(old)).ignite().await;
        let Err(error) = ignited else {
            panic!("`{old}` is refused, not ignored");
        };
        assert!(
            matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)),
            "`{old}` stops a stage"
        );
        let message = read(&with(old)).expect_err("the section is refused");
        assert!(message.contains(&format!("`{new}`")), "{old}: {message}");
    }
}

#[rocket::async_test]
async fn the_new_keys_launch() {
    let mut figment = rocket::Config::figment()
        .merge(("ticker.enabled", false))
        .merge(("log_level", "off"));
    for (_, new, _) in RENAMED {
        figment = figment.merge((new, 600));
    }
    if let Err(error) = reverse_ajax::rocket_from(figment).ignite().await {
        panic!("every new key is read: {:?}", error.kind());
    }
}
