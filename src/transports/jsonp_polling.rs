//! JSONP polling: `GET /api/channels/<ch>/events?since=&callback=`, the poll of
//! [`super::polling`] with a `callback` (one route serves both, so a plain poll is never
//! first offered to a JSONP route that it fails).
//!
//! The same answer as HTTP polling, but written as a script that calls `callback`, so that a
//! page on any origin can load it with a `<script>` element.

use rocket::http::ContentType;

use crate::error::AppError;
use crate::hub::Batch;
use crate::wire::jsonp::{self, Callback};

/// The body `/**/callback({"events":[…],"next":…,"reset":…});` as `text/javascript`.
/// A callback that is not a plain JavaScript name is refused with a 400 that does not
/// repeat it.
pub fn answer(callback: &str, batch: &Batch) -> Result<(ContentType, String), AppError> {
    let callback = Callback::parse(callback)?;
    Ok((jsonp::script_type(), jsonp::batch_body(&callback, batch)))
}
