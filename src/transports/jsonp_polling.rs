//! JSONP polling, mounted at `GET /api/channels/<ch>/events?since=&callback=`.
//!
//! The same poll as HTTP polling, but answered as a script that calls `callback`, so that a
//! page on any origin can load it with a `<script>` element.

use rocket::http::ContentType;
use rocket::{Route, State};

use crate::access::Reader;
use crate::error::AppError;
use crate::hub::Hub;
use crate::wire::jsonp::{self, Callback};
use crate::wire::{NoStore, channel, cursor};

/// Answers `/**/callback({"events":[…],"next":…,"reset":…});` as `text/javascript`.
/// A callback that is not a plain JavaScript name is refused with a 400 that does not repeat it.
#[get("/api/channels/<ch>/events?<since>&<callback>", rank = 1)]
pub async fn poll_jsonp(
    ch: &str,
    since: Option<&str>,
    callback: &str,
    mut reader: Reader,
    hub: &State<Hub>,
) -> Result<NoStore<(ContentType, String)>, AppError> {
    let callback = Callback::parse(callback)?;
    let batch = hub.read(&channel(ch)?, cursor(since)?.as_ref()).await?;
    let body = jsonp::batch_body(&callback, &batch);
    reader.meter.answer(&batch.events, batch.reset, body.len());
    Ok(NoStore::new((jsonp::script_type(), body)))
}

pub fn routes() -> Vec<Route> {
    routes![poll_jsonp]
}
