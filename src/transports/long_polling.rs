//! XHR long polling, mounted at `GET /push/<ch>/long-poll?since=`.
//!
//! The request is held until at least one event follows the client's cursor, then answered at
//! once with everything pending; or, after the server's cap, answered with an empty batch so
//! that the client asks again. [`Held`] does the waiting, for script-tag long polling too.

use rocket::http::ContentType;
use rocket::{Route, State};

use super::held::Held;
use crate::access::Listener;
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Batch, Hub};

/// Answers `{"events":[…],"next":…,"reset":…}` as soon as there is at least one event after
/// `since`, or with no events once `push.long_poll_max_ms` has passed (or at shutdown).
#[get("/push/<ch>/long-poll?<since>")]
pub async fn long_poll(
    ch: &str,
    since: Option<&str>,
    listener: Listener,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Held<fn(&Batch) -> String>, AppError> {
    let json: fn(&Batch) -> String = Batch::to_json;
    Held::open(
        hub,
        (ch, since),
        listener,
        config,
        (ContentType::JSON, json),
    )
    .await
}

pub fn routes() -> Vec<Route> {
    routes![long_poll]
}
