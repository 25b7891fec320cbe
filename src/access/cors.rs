//! Cross-origin reads for this site's own pages.
//!
//! A browser opens about six HTTP/1.1 connections per host name, and `/compare` holds five
//! streams and long polls at once besides its polls. It spreads them over the site's other
//! loopback name (a page on `127.0.0.1` holds some on `localhost`), and a read from another
//! name is cross-origin: the browser only hands the answer to the page when it carries
//! `Access-Control-Allow-Origin` (and only reports its size with `Timing-Allow-Origin`).
//! This fairing adds those headers to GET answers under
//! `/api/channels/` and `/push/`, and only for origins [`super::origin::Origins`] counts as
//! this site's, so no other site's page gains anything. Writes never get it: publishes stay
//! same-origin.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Method};
use rocket::{Request, Response};

use super::Access;

/// Adds `Access-Control-Allow-Origin` to reads requested by this site's other names.
pub struct SiblingReads;

/// The paths whose GET answers this site's pages may read from another of its names.
const READS: [&str; 2] = ["/api/channels/", "/push/"];

#[rocket::async_trait]
impl Fairing for SiblingReads {
    fn info(&self) -> Info {
        Info {
            name: "Cross-origin reads for this site's pages",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        if request.method() != Method::Get {
            return;
        }
        let path = request.uri().path();
        if !READS.iter().any(|prefix| path.as_str().starts_with(prefix)) {
            return;
        }
        let (Some(origin), Some(access)) = (
            request.headers().get_one("Origin"),
            request.rocket().state::<Access>(),
        ) else {
            return;
        };
        // Every answer on these paths may differ by origin, so caches must key on it.
        response.adjoin_header(Header::new("Vary", "Origin"));
        if access.origin_allowed(origin, request.rocket().config().port) {
            response.set_header(Header::new(
                "Access-Control-Allow-Origin",
                origin.to_owned(),
            ));
            // Lets the page see the answer's size in Resource Timing, as for its own origin.
            response.set_header(Header::new("Timing-Allow-Origin", origin.to_owned()));
        }
    }
}
