//! HTTP polling, mounted at `GET /api/channels/<ch>/events?since=`.
//!
//! The browser asks on a timer; the server answers at once with whatever happened after the
//! client's cursor, often nothing. This is the whole server side of the technique.

use rocket::http::ContentType;
use rocket::{Route, State};

use crate::access::Reader;
use crate::error::AppError;
use crate::hub::Hub;
use crate::wire::{NoStore, channel, cursor};

/// Answers `{"events":[…],"next":"<id>","reset":false}` at once: the events after `since`
/// (none when `since` is absent), the cursor for the next poll, and whether the cursor had to
/// be reset. Rank 2, so that a request with `callback=` goes to JSONP polling first.
#[get("/api/channels/<ch>/events?<since>", rank = 2)]
pub async fn poll(
    ch: &str,
    since: Option<&str>,
    mut reader: Reader,
    hub: &State<Hub>,
) -> Result<NoStore<(ContentType, String)>, AppError> {
    let batch = hub.read(&channel(ch)?, cursor(since)?.as_ref()).await?;
    let body = batch.to_json();
    reader.meter.answer(&batch.events, batch.reset, body.len());
    Ok(NoStore::new((ContentType::JSON, body)))
}

pub fn routes() -> Vec<Route> {
    routes![poll]
}
