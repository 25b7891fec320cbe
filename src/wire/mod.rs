//! The wire helpers every feature shares: parsing a channel name and a cursor from a URL,
//! the visitor channel rule, the `no-store` wrapper of dynamic answers, and JSONP. They sit below every feature, so
//! the publish API and the postal-code lookup need nothing from the transports.

pub mod jsonp;
pub mod technique;
pub mod visitor;

use rocket::http::Header;
use rocket::response::Responder;

use crate::error::AppError;
use crate::hub::{Channel, EventId};
pub use technique::{Serves, Shape, Technique};

/// Parses a channel name taken from a URL.
pub fn channel(name: &str) -> Result<Channel, AppError> {
    Channel::parse(name).map_err(AppError::BadRequest)
}

/// Parses an optional cursor; an empty value means "no cursor".
pub fn cursor(since: Option<&str>) -> Result<Option<EventId>, AppError> {
    match since.map(str::trim) {
        None | Some("") => Ok(None),
        Some(id) => id
            .parse()
            .map(Some)
            .map_err(|e| AppError::bad_request(format!("since: {e}"))),
    }
}

/// `Cache-Control: no-store`, which every dynamic answer carries.
///
/// `X-Content-Type-Options: nosniff` is not set here: Rocket's Shield, on by default, adds it
/// to every response, and a second copy would only make Shield log a warning per answer. The
/// tests check that it is present on every JSONP answer and stream.
pub fn no_store() -> Header<'static> {
    Header::new("Cache-Control", "no-store")
}

/// Wraps any answer with the headers a dynamic, never-cached answer needs.
#[derive(Responder)]
pub struct NoStore<R> {
    pub inner: R,
    pub cache: Header<'static>,
}

impl<R> NoStore<R> {
    pub fn new(inner: R) -> NoStore<R> {
        NoStore {
            inner,
            cache: no_store(),
        }
    }
}
