//! The transports: thin adapters from hub events to one wire format each.
//!
//! This module holds what they share: the cursor and channel parsing, the JSON answer of the
//! polling family, and the response headers every dynamic answer carries.

pub mod forever_iframe;
pub mod held;
pub mod jsonp;
pub mod jsonp_polling;
pub mod long_polling;
pub mod multipart_streaming;
pub mod piggyback;
pub mod polling;
pub mod pump;
pub mod script_long_polling;
pub mod server_sent_events;
pub mod stream;
pub mod websocket;

use rocket::fairing::AdHoc;
use rocket::http::Header;
use rocket::response::Responder;

use crate::config::{self, PushConfig};
use crate::error::AppError;
use crate::hub::{Channel, EventId};

/// Mounts every transport route listed in DESIGN.md.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Transports", |rocket| async {
        let push =
            config::section::<PushConfig>(rocket.figment(), "push").and_then(PushConfig::check);
        let push = match push {
            Ok(push) => push,
            Err(message) => {
                rocket::error!("{message}");
                return Err(rocket);
            }
        };
        let websocket_routes = websocket::routes(&push);
        Ok(rocket
            .manage(push)
            .mount("/", polling::routes())
            .mount("/", jsonp_polling::routes())
            .mount("/", piggyback::routes())
            .mount("/", long_polling::routes())
            .mount("/", server_sent_events::routes())
            .mount("/", forever_iframe::routes())
            .mount("/", multipart_streaming::routes())
            .mount("/", script_long_polling::routes())
            .mount("/", websocket_routes)
            .attach(websocket::stage())
            .manage(piggyback::Registrations::default()))
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
