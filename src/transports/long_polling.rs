//! XHR long polling, mounted at `GET /push/<ch>/long-poll?since=`.
//!
//! The request is held until at least one event follows the client's cursor, then answered at
//! once with everything pending; or, after the server's cap, answered with an empty batch so
//! that the client asks again. [`Held`] does the waiting, for script-tag long polling too.

use rocket::http::ContentType;
use rocket::request::Request;
use rocket::{Route, State};

use super::guard::Connection;
use super::held::Held;
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Batch, Hub};
use crate::wire::{Serves, Technique};

/// The route's technique.
pub struct LongPolling;

impl Serves for LongPolling {
    fn technique(_: &Request<'_>) -> Technique {
        Technique::LongPolling
    }
}

/// Answers `{"events":[…],"next":…,"reset":…}` as soon as there is at least one event after
/// `since`, or with no events once `push.long_poll_max_ms` has passed (or at shutdown).
#[get("/push/<_>/long-poll?<since>")]
pub async fn long_poll(
    since: Option<&str>,
    listener: Connection<LongPolling>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Held<fn(&Batch) -> String>, AppError> {
    let json: fn(&Batch) -> String = Batch::to_json;
    Held::open(hub, since, listener, config, (ContentType::JSON, json)).await
}

pub fn routes() -> Vec<Route> {
    routes![long_poll]
}
