//! HTTP polling, mounted at `GET /api/channels/<ch>/events?since=`.
//!
//! The browser asks on a timer; the server answers at once with whatever happened after the
//! client's cursor, often nothing. This is the whole server side of the technique. With
//! `&callback=` the same answer comes as JSONP ([`super::jsonp_polling`]).

use rocket::http::ContentType;
use rocket::{Route, State};

use super::jsonp_polling;
use crate::access::Reader;
use crate::error::AppError;
use crate::hub::Hub;
use crate::wire::{NoStore, channel, cursor};

/// Answers `{"events":[…],"next":"<id>","reset":false}` at once: the events after `since`
/// (none when `since` is absent), the cursor for the next poll, and whether the cursor had to
/// be reset. With `callback`, the same object as JSONP.
#[get("/api/channels/<ch>/events?<since>&<callback>")]
pub async fn poll(
    ch: &str,
    since: Option<&str>,
    callback: Option<&str>,
    mut reader: Reader,
    hub: &State<Hub>,
) -> Result<NoStore<(ContentType, String)>, AppError> {
    let channel = channel(ch)?;
    let since = cursor(since)?;
    let batch = hub.read(&channel, since.as_ref()).await?;
    let (content_type, body) = match callback {
        Some(callback) => jsonp_polling::answer(callback, &batch)?,
        None => (ContentType::JSON, batch.to_json()),
    };
    reader
        .meter
        .answer(&batch.events, batch.reset.is_some(), body.len());
    Ok(NoStore::new((content_type, body)))
}

pub fn routes() -> Vec<Route> {
    routes![poll]
}
