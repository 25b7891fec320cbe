//! Event patterns on visitors' own channels, mounted at `PUT|GET /api/channels/<ch>/pattern`
//! and `POST /api/channels/<ch>/burst`.
//!
//! A visitor picks what the server publishes on their channel (`demo-…`): `quiet` (only what
//! they send), `every-10s`, or `ticker` (one event after a random 1 to 3 s, the article's demo
//! server), and may ask for a burst of ten events at once. A pattern runs only while someone
//! listens to the channel, on any transport (the access guards keep the [`Audience`]), and
//! stops `[patterns] idle_ms` after the last listener left; pages send their choice again when
//! they load. At most `max_running` patterns run at once.
//!
//! On the Redis backend all of this is the site's, not the process's ([`shared`]): the
//! choice, its audience and the count live in Redis, and one instance runs each pattern.

mod registry;
mod shared;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::{self, Json};
use rocket::{Route, State};
use serde::{Deserialize, Serialize};

use crate::access::audience::Audience;
use crate::access::guard::refuse;
use crate::config::{self, PatternsConfig, TickerConfig};
use crate::error::AppError;
use crate::hub::redis::Choices;
use crate::hub::{Channel, EventId, Hub, Payload};
use crate::metrics::PublishOutcome;
use crate::publish::Publishing;
use crate::ticker::Pace;
use crate::wire::{self, visitor};

pub use registry::{Refusal, Registry};

/// How many events a burst publishes.
pub const BURST: usize = 10;

/// What the server publishes on a visitor's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Pattern {
    /// Nothing: only what the visitor sends.
    #[serde(rename = "quiet")]
    Quiet,
    /// One event every `slow_ms` (10 s).
    #[serde(rename = "every-10s")]
    Every10s,
    /// One event after a random pause between `ticker.min_ms` and `ticker.max_ms` (1–3 s), like
    /// the demo ticker.
    #[serde(rename = "ticker")]
    Ticker,
}

impl Pattern {
    pub const ALL: [Pattern; 3] = [Pattern::Quiet, Pattern::Every10s, Pattern::Ticker];

    pub fn name(self) -> &'static str {
        match self {
            Pattern::Quiet => "quiet",
            Pattern::Every10s => "every-10s",
            Pattern::Ticker => "ticker",
        }
    }

    /// The pattern called `name`; the error lists the names.
    pub fn parse(name: &str) -> Result<Pattern, String> {
        Pattern::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| "unknown pattern: use \"quiet\", \"every-10s\" or \"ticker\"".into())
    }
}

/// The body of a `PUT`.
#[derive(Debug, Deserialize)]
pub struct Choice {
    pattern: String,
}

/// The answer of `PUT` and `GET`.
#[derive(Debug, Serialize)]
pub struct Chosen {
    channel: Channel,
    pattern: Pattern,
}

/// The answer of a burst: the events' ids, in the order they were published.
#[derive(Debug, Serialize)]
pub struct Burst {
    ids: Vec<EventId>,
}

/// The route's `<ch>`, when it is a visitor's own channel (`demo-…`); else a 400, before any
/// other guard runs (so `demo` and any other name are refused alike, whoever asks).
#[derive(Debug)]
pub struct Own(Channel);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Own {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        // Every route here is `/api/channels/<ch>/…`.
        let name = request.routed_segment(2).unwrap_or("");
        if !visitor::is_own(name) {
            let error = AppError::bad_request(
                "only a visitor's own channel (demo- and 6 to 32 of a-z, 0-9) takes a pattern; \
                 `demo` has the shared ticker",
            );
            return refuse(request, error);
        }
        match wire::channel(name) {
            Ok(channel) => Outcome::Success(Own(channel)),
            Err(error) => refuse(request, error),
        }
    }
}

/// Runs the pattern named in the body, `{"pattern":"quiet"|"every-10s"|"ticker"}`, on the
/// channel, and answers `{"channel","pattern"}`. It counts as a publish (this site's pages
/// only, within the caller's rate). An unknown name or another channel is a 400; a new pattern
/// while `max_running` run is a 429; Redis out of reach is a 503.
#[put("/api/channels/<_>/pattern", data = "<choice>")]
async fn set_pattern(
    own: Own,
    _writer: Publishing,
    choice: Result<Json<Choice>, json::Error<'_>>,
    registry: &State<Registry>,
    hub: &State<Hub>,
) -> Result<Json<Chosen>, AppError> {
    let choice = choice
        .map_err(|e| AppError::bad_request(format!("send {{\"pattern\":\"…\"}} as JSON: {e}")))?;
    let pattern = Pattern::parse(&choice.pattern).map_err(AppError::BadRequest)?;
    registry
        .set(hub, &own.0, pattern)
        .await
        .map_err(|refusal| match refusal {
            Refusal::Full(max) => AppError::TooManyRequests(
                format!("the server runs its limit of {max} event patterns: try again later"),
                registry.retry_after(),
            ),
            Refusal::Hub(error) => AppError::from(error),
        })?;
    Ok(Json(Chosen {
        channel: own.0,
        pattern,
    }))
}

/// Answers `{"channel","pattern"}`: what runs on the channel now (`quiet` when nothing does,
/// or after its listeners left), the same on every instance.
#[get("/api/channels/<_>/pattern")]
async fn get_pattern(own: Own, registry: &State<Registry>) -> Result<Json<Chosen>, AppError> {
    let pattern = registry.get(&own.0).await?;
    Ok(Json(Chosen {
        channel: own.0,
        pattern,
    }))
}

/// Publishes ten events now, `"Burst 1 of 10"` to `"Burst 10 of 10"`, in order, and answers
/// `201 {"ids":[…]}`. Ten publishes from the caller's rate.
#[post("/api/channels/<_>/burst")]
async fn burst(
    own: Own,
    writer: Publishing,
    hub: &State<Hub>,
) -> Result<(Status, Json<Burst>), AppError> {
    let more = u32::try_from(BURST - 1).unwrap_or(u32::MAX);
    if let Err(error) = writer.writer.spend(more) {
        writer.publishes.count(PublishOutcome::Refused);
        return Err(error);
    }
    let mut ids = Vec::with_capacity(BURST);
    for n in 1..=BURST {
        let text = format!("Burst {n} of {BURST}");
        match hub.publish(&own.0, Payload::text(&text)).await {
            Ok(event) => {
                writer.publishes.count(PublishOutcome::Stored);
                ids.push(event.id.clone());
            }
            Err(error) => {
                let error = AppError::from(error);
                writer.publishes.count(PublishOutcome::of_error(&error));
                return Err(error);
            }
        }
    }
    Ok((Status::Created, Json(Burst { ids })))
}

pub fn routes() -> Vec<Route> {
    routes![set_pattern, get_pattern, burst]
}

/// `[patterns]`, and the pace of the `ticker` pattern: the demo ticker's.
fn read(figment: &Figment) -> Result<(PatternsConfig, Pace), String> {
    let ticker = config::read::<TickerConfig>(figment)?;
    let patterns = config::read::<PatternsConfig>(figment)?;
    Ok((patterns, Pace::between(ticker.min_ms, ticker.max_ms)))
}

/// Reads `[patterns]` (and the `ticker` pattern's pace from `[ticker]`), manages the
/// [`Audience`] the access guards keep and the [`Registry`], sweeps quiet channels from the
/// audience, and stops every pattern at shutdown.
pub fn stage() -> AdHoc {
    config::stage("Event patterns", read, |rocket, (config, ticker)| {
        let audience = Audience::new(config.idle());
        let every = config.idle().max(std::time::Duration::from_secs(1));
        let choices = rocket.state::<Choices>().cloned();
        let registry = Registry::new(config, ticker, audience.clone(), choices);
        let (closing, stopping, beating) = (registry.clone(), registry.clone(), registry.clone());
        let sweeper = audience.clone();
        rocket
            .manage(audience)
            .manage(registry)
            .mount("/", routes())
            .attach(AdHoc::on_liftoff("Audience sweeps", move |rocket| {
                let shutdown = rocket.shutdown();
                let hub = rocket.state::<Hub>().cloned();
                Box::pin(async move {
                    if let (Some(hub), true) = (hub, beating.site().is_some()) {
                        rocket::tokio::spawn(shared::beat(beating, hub));
                    }
                    rocket::tokio::spawn(async move {
                        let mut ticks = rocket::tokio::time::interval(every);
                        loop {
                            rocket::tokio::select! {
                                _ = ticks.tick() => sweeper.sweep(),
                                () = shutdown.clone() => break,
                            }
                        }
                        // The shutdown fairing waits for the same; this also stops the
                        // patterns of a server that only ever got the signal (tests).
                        stopping.close().await;
                    });
                })
            }))
            .attach(AdHoc::on_shutdown("Event patterns stop", |_| {
                Box::pin(async move { closing.close().await })
            }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_names_parse_back() {
        for pattern in Pattern::ALL {
            assert_eq!(Pattern::parse(pattern.name()), Ok(pattern));
            let json = serde_json::to_string(&pattern).expect("serializes");
            assert_eq!(json, format!("\"{}\"", pattern.name()));
        }
        assert!(Pattern::parse("burst").is_err());
    }
}
