//! The transport doctor: `/doctor` runs each technique for a few seconds through the
//! visitor's real path and says which ones survive it (the page is in the catalog; its
//! script, `static/js/techniques/doctor.js`, does the diagnosis). The server's part:
//!
//! - `POST /api/doctor/sessions`: a channel of the diagnosis's own (`doctor-<random>`), fed
//!   with timestamped events every [`FEED_MS`] for [`FEED_FOR`], and what the server saw of
//!   the request ([`seen::Seen`]);
//! - `POST /api/doctor/reports`: the verdicts a visitor chose to send, counted in
//!   `reverse_ajax_doctor_verdicts_total{transport,verdict}` ([`verdict::Verdicts`]).
//!
//! Both are for this site's pages only ([`SameSite`]) and rate-limited per client address.

mod feed;
pub mod seen;
pub mod verdict;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rocket::data::Data;
use rocket::fairing::AdHoc;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::Json;
use rocket::{Route, Shutdown, State};
use serde_json::{Value, json};

use crate::access::guard::refuse;
use crate::access::{Access, SameSite};
use crate::error::{self, AppError};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::wire::NoStore;
use seen::Seen;
pub use verdict::{Report, Verdicts};

/// How often a diagnosis's channel gets an event.
pub const FEED_MS: u64 = 250;
/// How long a diagnosis's channel is fed: longer than a whole diagnosis takes.
pub const FEED_FOR: Duration = Duration::from_secs(90);
/// Diagnoses that may be fed at once, on the whole server.
const MAX_RUNNING: usize = 32;
/// The largest report body, in bytes: nine verdicts need under 300.
pub const MAX_REPORT: u64 = 2048;
/// Diagnoses one address may start per minute (and in a burst).
const SESSIONS_PER_MINUTE: u32 = 6;
/// Reports one address may send per minute (and in a burst).
const REPORTS_PER_MINUTE: u32 = 10;
/// Keys a limiter keeps before it forgets the idle ones.
const MAX_KEYS: usize = 10_000;

/// A per-address limiter of so many requests a minute.
struct PerMinute(DefaultKeyedRateLimiter<IpAddr>);

impl PerMinute {
    fn new(per_minute: u32) -> PerMinute {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        PerMinute(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// Counts one request of `address`; 429 with the wait when over.
    fn check(&self, address: IpAddr, what: &str) -> Result<(), AppError> {
        if self.0.len() >= MAX_KEYS {
            self.0.retain_recent();
        }
        self.0.check_key(&address).map_err(|wait| {
            let seconds = wait.wait_time_from(DefaultClock::default().now()).as_secs() + 1;
            AppError::TooManyRequests(
                format!("too many {what} from this address: try again in {seconds} s"),
                seconds,
            )
        })
    }
}

/// The doctor's state: its limiters and how many channels it feeds now.
pub struct Doctor {
    sessions: PerMinute,
    reports: PerMinute,
    running: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Doctor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doctor")
            .field("running", &self.running.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for Doctor {
    fn default() -> Self {
        Doctor {
            sessions: PerMinute::new(SESSIONS_PER_MINUTE),
            reports: PerMinute::new(REPORTS_PER_MINUTE),
            running: Arc::default(),
        }
    }
}

/// The client's address, as the access rules count it (behind trusted proxies, the one
/// they name).
struct Address(IpAddr);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Address {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        let address = match request.rocket().state::<Access>() {
            Some(access) => access.caller(request).map(|c| c.address),
            None => Err(AppError::Unavailable(
                "access control is not configured".into(),
            )),
        };
        match address {
            Ok(address) => Outcome::Success(Address(address)),
            Err(error) => refuse(request, error),
        }
    }
}

/// What the server saw, as a guard.
struct Saw(Seen);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Saw {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Saw(Seen::of(request)))
    }
}

/// The verdict counters, when metrics are on (`[metrics] enabled = false` counts nothing).
struct Counters(Option<Verdicts>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Counters {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let metrics = request.rocket().state::<Metrics>();
        Outcome::Success(Counters(metrics.map(|m| m.doctor().clone())))
    }
}

/// Starts a diagnosis: `201 {"channel","feed_ms","lasts_ms","seen"}`. The channel gets
/// `{"n":<count>,"sent_ms":<server time>}` every `feed_ms` until `lasts_ms` have passed or
/// the server stops. 429 past the address's rate, 503 when too many run.
#[post("/api/doctor/sessions")]
async fn start(
    _site: SameSite,
    address: Address,
    saw: Saw,
    doctor: &State<Doctor>,
    hub: &State<Hub>,
    shutdown: Shutdown,
) -> Result<(Status, NoStore<Json<Value>>), AppError> {
    doctor.sessions.check(address.0, "diagnoses")?;
    let Some(seat) = feed::Seat::take(&doctor.running, MAX_RUNNING) else {
        return Err(AppError::Busy(
            "too many diagnoses are running: try again in a minute".to_owned(),
            30,
        ));
    };
    let channel = feed::channel();
    let hub = hub.inner().clone();
    let ch = channel.clone();
    rocket::tokio::spawn(async move { feed::run(&hub, &ch, seat, shutdown).await });
    let answer = json!({
        "channel": channel.as_str(),
        "feed_ms": FEED_MS,
        "lasts_ms": FEED_FOR.as_millis(),
        "seen": saw.0,
    });
    Ok((Status::Created, NoStore::new(Json(answer))))
}

/// Counts a visitor's verdicts: `202 {"counted":<n>}`. 400 for a body that is not a report
/// (see [`Report::parse`]), 413 past [`MAX_REPORT`] bytes, 429 past the address's rate.
#[post("/api/doctor/reports", data = "<body>")]
async fn report(
    _site: SameSite,
    address: Address,
    body: Data<'_>,
    doctor: &State<Doctor>,
    counters: Counters,
) -> Result<(Status, NoStore<Json<Value>>), AppError> {
    doctor.reports.check(address.0, "reports")?;
    let text = error::read_text(body, MAX_REPORT, "a report").await?;
    let report = Report::parse(&text).map_err(AppError::BadRequest)?;
    if let Some(verdicts) = counters.0 {
        verdicts.count(&report);
    }
    let answer = json!({ "counted": report.0.len() });
    Ok((Status::Accepted, NoStore::new(Json(answer))))
}

fn routes() -> Vec<Route> {
    routes![start, report]
}

/// Manages the doctor's state and mounts its two routes.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Doctor", |rocket| async {
        rocket.manage(Doctor::default()).mount("/", routes())
    })
}
