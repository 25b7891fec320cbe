//! XHR long polling, mounted at `GET /push/<ch>/long-poll?since=`.
//!
//! The request is held until at least one event follows the client's cursor, then answered at
//! once with everything pending; or, after the server's cap, answered with an empty batch so
//! that the client asks again. The shared waiting lives in [`hold`], which script-tag long
//! polling uses too.

use rocket::futures::FutureExt;
use rocket::serde::json::Json;
use rocket::{Route, Shutdown, State};

use super::{NoStore, channel, cursor};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Batch, Hub};

/// Waits for the events after `since` on `ch`, for at most the configured cap, and returns
/// them as one batch (empty after the cap or on shutdown).
pub async fn hold(
    hub: &Hub,
    ch: &str,
    since: Option<&str>,
    config: &PushConfig,
    shutdown: Shutdown,
) -> Result<Batch, AppError> {
    let mut subscription = hub
        .subscribe(&channel(ch)?, cursor(since)?.as_ref())
        .await?;
    let reset = subscription.reset();
    let mut events = Vec::new();
    if !reset {
        tokio::select! {
            first = subscription.next() => if let Ok(event) = first {
                events.push(event);
                // Take everything else that is already waiting, without waiting again.
                while let Some(Ok(event)) = subscription.next().now_or_never() {
                    events.push(event);
                }
            },
            _ = tokio::time::sleep(config.long_poll_max()) => {}
            _ = shutdown => {}
        }
    }
    Ok(Batch {
        events,
        next: subscription.cursor(),
        reset,
    })
}

/// Answers `{"events":[…],"next":…,"reset":…}` as soon as there is at least one event after
/// `since`, or with no events once `push.long_poll_max_ms` has passed.
#[get("/push/<ch>/long-poll?<since>")]
pub async fn long_poll(
    ch: &str,
    since: Option<&str>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    shutdown: Shutdown,
) -> Result<NoStore<Json<Batch>>, AppError> {
    let batch = hold(hub, ch, since, config, shutdown).await?;
    Ok(NoStore::new(Json(batch)))
}

pub fn routes() -> Vec<Route> {
    routes![long_poll]
}
