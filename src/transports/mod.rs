//! The transports: thin adapters from hub events to one wire format each.
//!
//! What they share with the rest of the site (channel and cursor parsing, JSONP, the
//! `no-store` wrapper) lives in [`crate::wire`]; the pump and the stream and held-answer
//! writers they share with each other live here.

pub mod forever_iframe;
pub mod guard;
pub mod held;
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

use crate::config::{self, PushConfig};

/// Mounts every transport route listed in DESIGN.md.
pub fn stage() -> AdHoc {
    config::stage("Transports", config::read::<PushConfig>, |rocket, push| {
        let websocket_routes = websocket::routes(&push);
        rocket
            .manage(push)
            .mount("/", polling::routes())
            .mount("/", piggyback::routes())
            .mount("/", long_polling::routes())
            .mount("/", server_sent_events::routes())
            .mount("/", forever_iframe::routes())
            .mount("/", multipart_streaming::routes())
            .mount("/", script_long_polling::routes())
            .mount("/", websocket_routes)
            .attach(websocket::stage())
            .manage(piggyback::Registrations::default())
    })
}
