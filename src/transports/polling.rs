//! HTTP polling, mounted at `GET /api/channels/<ch>/events?since=`.
//!
//! The browser asks on a timer; the server answers at once with whatever happened after the
//! client's cursor, often nothing. This is the whole server side of the technique. With
//! `&callback=` the same answer comes as JSONP ([`super::jsonp_polling`]).

use rocket::http::ContentType;
use rocket::request::Request;
use rocket::{Route, State};

use super::guard::Poll;
use super::jsonp_polling;
use crate::error::AppError;
use crate::hub::Hub;
use crate::wire::{NoStore, Serves, Technique, cursor};

/// The route's technique: HTTP polling, or JSONP polling when the poll names a `callback`.
pub struct Polling;

impl Serves for Polling {
    fn technique(request: &Request<'_>) -> Technique {
        match request.query_value::<&str>("callback") {
            Some(_) => Technique::JsonpPolling,
            None => Technique::Polling,
        }
    }
}

/// Answers `{"events":[…],"next":"<id>","reset":false}` at once: the events after `since`
/// (none when `since` is absent), the cursor for the next poll, and whether the cursor had to
/// be reset. With `callback`, the same object as JSONP.
#[get("/api/channels/<_>/events?<since>&<callback>")]
pub async fn poll(
    since: Option<&str>,
    callback: Option<&str>,
    mut reader: Poll<Polling>,
    hub: &State<Hub>,
) -> Result<NoStore<(ContentType, String)>, AppError> {
    let since = cursor(since)?;
    let batch = hub.read(&reader.channel, since.as_ref()).await?;
    let (content_type, body) = match callback {
        Some(callback) => jsonp_polling::answer(callback, &batch)?,
        None => (ContentType::JSON, batch.to_json()),
    };
    reader.meter.answer(&batch.events, batch.reset, body.len());
    Ok(NoStore::new((content_type, body)))
}

pub fn routes() -> Vec<Route> {
    routes![poll]
}
