//! Prometheus metrics at `GET /metrics`, per transport (the technique's slug): in the
//! OpenMetrics text format of `prometheus-client` to a scraper whose `Accept` asks for it,
//! else in the classic text format (0.0.4) that every Prometheus tool reads.
//!
//! Every counter a delivery touches is made at launch and handed out through [`Meter`]s, so
//! counting is a relaxed atomic add, never a lock or a label lookup. `[metrics] enabled =
//! false` turns counting off entirely. On an address other than loopback `/metrics` needs a
//! valid token unless `[metrics] public = true`.

mod classic;
mod latency;
pub mod meter;
mod tally;

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rocket::fairing::AdHoc;
use rocket::http::ContentType;
use rocket::request::Request;
use rocket::{Route, State};
use serde::Deserialize;

use crate::access::{Endpoint, Operator};
use crate::config;
use crate::error::AppError;
use crate::hub::Hub;
use crate::wire::Technique;
pub use latency::Latency;
pub use meter::{Disconnect, Meter};
use tally::Tally;

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Count and serve `/metrics`.
    pub enabled: bool,
    /// Serve `/metrics` without a token even on an address other than loopback.
    pub public: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            public: false,
        }
    }
}

impl config::Section for MetricsConfig {
    const NAME: &'static str = "metrics";
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabel {
    transport: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DisconnectLabel {
    transport: String,
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

/// The counters of one transport.
#[derive(Debug)]
pub struct TransportMetrics {
    requests: Counter,
    empty: Counter,
    delivered: Tally,
    bytes: Tally,
    open: Gauge,
    resets: Counter,
    /// By [`Disconnect`], in the order of [`Disconnect::ALL`].
    disconnects: Vec<Counter>,
    latency: Latency,
}

/// What became of a publish, as `reverse_ajax_publishes_total` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    Stored,
    Duplicate,
    Refused,
    Unavailable,
}

impl PublishOutcome {
    const ALL: [PublishOutcome; 4] = [
        PublishOutcome::Stored,
        PublishOutcome::Duplicate,
        PublishOutcome::Refused,
        PublishOutcome::Unavailable,
    ];

    fn name(self) -> &'static str {
        match self {
            PublishOutcome::Stored => "stored",
            PublishOutcome::Duplicate => "duplicate",
            PublishOutcome::Refused => "refused",
            PublishOutcome::Unavailable => "unavailable",
        }
    }

    /// The outcome of a publish that failed with `error`.
    pub fn of_error(error: &AppError) -> PublishOutcome {
        match error.status().code {
            503 | 504 => PublishOutcome::Unavailable,
            _ => PublishOutcome::Refused,
        }
    }
}

/// The publish counters, by outcome (nothing when metrics are off); clones share them.
#[derive(Debug, Clone, Default)]
pub struct Publishes(Option<Arc<Vec<Counter>>>);

impl Publishes {
    pub fn count(&self, outcome: PublishOutcome) {
        let Some(counters) = &self.0 else { return };
        // The counters are made in the order of `PublishOutcome::ALL`, its declaration order.
        counters[outcome as usize].inc();
    }

    /// The counters of `request`'s server.
    pub fn of(request: &Request<'_>) -> Publishes {
        request
            .rocket()
            .state::<Metrics>()
            .map_or_else(Publishes::default, |m| m.publishes.clone())
    }
}

/// Every metric of the server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    transports: Vec<Arc<TransportMetrics>>,
    publishes: Publishes,
    channels: Gauge,
    history_bytes: Gauge,
    backend: BackendMetrics,
    doctor: crate::doctor::Verdicts,
    public: bool,
}

/// What an instance's link to a shared backend (Redis) has done; zero with memory.
#[derive(Debug, Default)]
struct BackendMetrics {
    messages: Counter,
    subscribed: Gauge,
    gap_repairs: Counter,
    resets: Counter,
    relinks: Counter,
}

impl BackendMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "backend_messages",
            "Live messages this instance received from the backend (Redis pub/sub)",
            self.messages.clone(),
        );
        registry.register(
            "backend_subscribed_channels",
            "Channels whose live topic this instance subscribes to now",
            self.subscribed.clone(),
        );
        registry.register(
            "backend_gap_repairs",
            "Holes in the live messages filled from a channel's history",
            self.gap_repairs.clone(),
        );
        registry.register(
            "backend_resets",
            "Live windows started over by the backend (a new history, or a hole history could \
             not fill); their subscribers resume to a reset",
            self.resets.clone(),
        );
        registry.register(
            "backend_relinks",
            "Links to the backend found lost or silent (no answer to a probe) and opened anew",
            self.relinks.clone(),
        );
    }

    /// Copies the backend's own counters (they only grow, so a late copy never goes back).
    fn set(&self, stats: crate::hub::BackendStats) {
        use std::sync::atomic::Ordering::Relaxed;
        self.messages
            .inner()
            .fetch_max(stats.live_messages, Relaxed);
        self.gap_repairs
            .inner()
            .fetch_max(stats.gap_repairs, Relaxed);
        self.resets.inner().fetch_max(stats.resets, Relaxed);
        self.relinks.inner().fetch_max(stats.relinks, Relaxed);
        self.subscribed
            .set(i64::try_from(stats.subscribed).unwrap_or(i64::MAX));
    }
}

/// A family with one member per transport, each made now so that it shows from the start.
fn per_transport<M>(family: &Family<TransportLabel, M>) -> Vec<M>
where
    M: prometheus_client::metrics::TypedMetric + Default + Clone,
{
    Technique::ALL
        .iter()
        .map(|t| {
            let label = TransportLabel {
                transport: t.slug().to_owned(),
            };
            family.get_or_create(&label).clone()
        })
        .collect()
}

impl Metrics {
    pub fn new(public: bool) -> Metrics {
        let mut registry = Registry::with_prefix("reverse_ajax");
        let requests = Family::<TransportLabel, Counter>::default();
        let empty = Family::<TransportLabel, Counter>::default();
        let delivered = Family::<TransportLabel, Tally>::default();
        let bytes = Family::<TransportLabel, Tally>::default();
        let open = Family::<TransportLabel, Gauge>::default();
        let resets = Family::<TransportLabel, Counter>::default();
        let latency = Family::<TransportLabel, Latency>::default();
        let disconnects = Family::<DisconnectLabel, Counter>::default();
        let publishes = Family::<OutcomeLabel, Counter>::default();
        let (channels, history_bytes) = (Gauge::default(), Gauge::default());
        let transports = {
            let (requests, empty, delivered, bytes, resets) = (
                per_transport(&requests),
                per_transport(&empty),
                per_transport(&delivered),
                per_transport(&bytes),
                per_transport(&resets),
            );
            let (open, latency) = (per_transport(&open), per_transport(&latency));
            Technique::ALL
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let disconnects = Disconnect::ALL
                        .iter()
                        .map(|why| {
                            let label = DisconnectLabel {
                                transport: t.slug().to_owned(),
                                reason: why.reason().to_owned(),
                            };
                            disconnects.get_or_create(&label).clone()
                        })
                        .collect();
                    Arc::new(TransportMetrics {
                        requests: requests[i].clone(),
                        empty: empty[i].clone(),
                        delivered: delivered[i].clone(),
                        bytes: bytes[i].clone(),
                        open: open[i].clone(),
                        resets: resets[i].clone(),
                        disconnects,
                        latency: latency[i].clone(),
                    })
                })
                .collect()
        };
        let outcomes = PublishOutcome::ALL
            .iter()
            .map(|o| {
                let label = OutcomeLabel {
                    outcome: o.name().to_owned(),
                };
                publishes.get_or_create(&label).clone()
            })
            .collect();
        let help = [
            (
                "requests",
                "Requests; a stream or WebSocket counts once per connection",
            ),
            (
                "empty_answers",
                "Answers, or stream ends, that carried no event",
            ),
            ("resets", "Cursors that could not be honoured"),
        ];
        for ((name, text), family) in help.iter().zip([requests, empty, resets]) {
            registry.register(*name, *text, family);
        }
        registry.register("events_delivered", "Events written to clients", delivered);
        registry.register("bytes_sent", "Body bytes written to clients", bytes);
        registry.register(
            "open_connections",
            "Held requests, streams and WebSockets open now",
            open,
        );
        registry.register(
            "disconnects",
            "Held connections that ended other than by answering, by reason",
            disconnects,
        );
        registry.register(
            "delivery_latency_seconds",
            "From an event's publish to its write to a client",
            latency,
        );
        registry.register("publishes", "Publishes, by outcome", publishes);
        registry.register("channels", "Channels this process holds", channels.clone());
        registry.register(
            "history_bytes",
            "Bytes of event history this process holds (0 with Redis, which holds it)",
            history_bytes.clone(),
        );
        let backend = BackendMetrics::default();
        backend.register(&mut registry);
        let doctor = crate::doctor::Verdicts::register(&mut registry);
        Metrics {
            registry,
            transports,
            publishes: Publishes(Some(Arc::new(outcomes))),
            channels,
            history_bytes,
            backend,
            doctor,
            public,
        }
    }

    /// The doctor's verdict counters.
    pub fn doctor(&self) -> &crate::doctor::Verdicts {
        &self.doctor
    }

    /// The counters of `transport`.
    pub fn transport(&self, transport: Technique) -> Arc<TransportMetrics> {
        // The counters are made in the order of `Technique::ALL`, its declaration order.
        Arc::clone(&self.transports[transport as usize])
    }

    /// The meter for `request`, held or brief, of `technique` (its route names it).
    pub fn meter(request: &Request<'_>, technique: Technique, held: bool) -> Meter {
        let of = request
            .rocket()
            .state::<Metrics>()
            .map(|metrics| metrics.transport(technique));
        if held {
            Meter::held(of)
        } else {
            Meter::brief(of)
        }
    }

    /// The OpenMetrics text of `/metrics`, with the hub's gauges read now.
    pub fn render(&self, hub: &Hub) -> String {
        let footprint = hub.footprint();
        self.channels
            .set(i64::try_from(footprint.channels).unwrap_or(i64::MAX));
        self.history_bytes
            .set(i64::try_from(footprint.history_bytes).unwrap_or(i64::MAX));
        if let Some(stats) = hub.backend_stats() {
            self.backend.set(stats);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _written = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// True when the request's `Accept` lists OpenMetrics (with a quality above 0), as
/// Prometheus does when it may use it.
fn wants_openmetrics(request: &Request<'_>) -> bool {
    request.accept().is_some_and(|accept| {
        accept.iter().any(|media| {
            media.top() == "application"
                && media.sub() == "openmetrics-text"
                && media.weight().is_none_or(|q| q > 0.0)
        })
    })
}

/// The format the scraper asks for.
pub struct Format(bool);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for Format {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        rocket::request::Outcome::Success(Format(wants_openmetrics(request)))
    }
}

/// Serves the metrics, as OpenMetrics when the scraper asks for it and in the classic text
/// format otherwise; on an address other than loopback only to a valid token, unless
/// `[metrics] public` is set.
#[get("/metrics")]
fn metrics(
    _access: Operator<Scrape>,
    format: Format,
    metrics: &State<Metrics>,
    hub: &State<Hub>,
) -> (ContentType, String) {
    let text = metrics.render(hub);
    if format.0 {
        let content_type = ContentType::new("application", "openmetrics-text")
            .with_params([("version", "1.0.0"), ("charset", "utf-8")]);
        return (content_type, text);
    }
    let content_type =
        ContentType::new("text", "plain").with_params([("version", "0.0.4"), ("charset", "utf-8")]);
    (content_type, classic::from_openmetrics(&text))
}

/// `/metrics`, as the operator's guard admits it.
pub struct Scrape;

impl Endpoint for Scrape {
    const NEEDS: &'static str =
        "/metrics needs a token on this address (or [metrics] public = true)";

    fn open(request: &Request<'_>) -> bool {
        request
            .rocket()
            .state::<Metrics>()
            .is_some_and(|m| m.public)
    }
}

fn routes() -> Vec<Route> {
    routes![metrics]
}

/// Reads `[metrics]`; when enabled, manages the metrics and mounts `/metrics`.
pub fn stage() -> AdHoc {
    config::stage(
        "Metrics",
        config::read::<MetricsConfig>,
        |rocket, config| {
            if !config.enabled {
                return rocket;
            }
            rocket
                .manage(Metrics::new(config.public))
                .mount("/", routes())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::{Disconnect, PublishOutcome, Technique};

    #[test]
    fn the_lists_counters_are_made_from_are_in_declaration_order() {
        assert!(
            Technique::ALL
                .iter()
                .enumerate()
                .all(|(i, &t)| t as usize == i)
        );
        assert!(
            PublishOutcome::ALL
                .iter()
                .enumerate()
                .all(|(i, &o)| o as usize == i)
        );
        assert!(
            Disconnect::ALL
                .iter()
                .enumerate()
                .all(|(i, &d)| d as usize == i)
        );
    }
}
