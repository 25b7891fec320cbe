//! The server's clock, mounted at `GET /api/clock`.
//!
//! Pages measure each event's delivery latency from its `at` (the server's time when it was
//! published) to the moment the browser shows it. The two clocks may differ by seconds, so the
//! page first asks for the server's time a few times and keeps the answer with the shortest
//! round trip: the offset is `now_ms - (t0 + t1) / 2`, where `t0` and `t1` are the browser's
//! times when it asked and when the answer came.

use rocket::Route;
use rocket::fairing::AdHoc;
use rocket::serde::json::Json;
use serde::Serialize;

use crate::wire::NoStore;

/// The server's time.
#[derive(Debug, Serialize)]
pub struct Now {
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
}

/// Answers `{"now_ms":<server time in Unix milliseconds>}`, never cached.
#[get("/api/clock")]
fn clock() -> NoStore<Json<Now>> {
    NoStore::new(Json(Now {
        now_ms: chrono::Utc::now().timestamp_millis(),
    }))
}

pub fn routes() -> Vec<Route> {
    routes![clock]
}

/// Mounts the clock.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Clock", |rocket| async { rocket.mount("/", routes()) })
}
