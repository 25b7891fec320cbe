//! The transports: thin adapters from hub events to one wire format each.
//!
//! This module holds what they share: the cursor and channel parsing, the JSON answer of the
//! polling family, and the response headers every dynamic answer carries.

pub mod jsonp;
pub mod jsonp_polling;
pub mod piggyback;
pub mod polling;

use rocket::fairing::AdHoc;
use rocket::http::Header;
use rocket::response::Responder;

use crate::error::AppError;
use crate::hub::{Channel, EventId};

/// Mounts every transport route listed in DESIGN.md.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Transports", |rocket| async {
        rocket
            .mount("/", polling::routes())
            .mount("/", jsonp_polling::routes())
            .mount("/", piggyback::routes())
            .manage(piggyback::Registrations::default())
    })
}

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

/// Wraps any answer with the headers a dynamic, never-cached answer needs.
#[derive(Responder)]
pub struct NoStore<R> {
    pub inner: R,
    pub cache: Header<'static>,
    pub sniff: Header<'static>,
}

impl<R> NoStore<R> {
    pub fn new(inner: R) -> NoStore<R> {
        NoStore {
            inner,
            cache: Header::new("Cache-Control", "no-store"),
            sniff: Header::new("X-Content-Type-Options", "nosniff"),
        }
    }
}
