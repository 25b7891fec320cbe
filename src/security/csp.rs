//! The Content-Security-Policy of the site's HTML, and the per-response nonces of the one
//! document that needs inline script (the forever iframe).

use std::fmt::Write;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

/// The header's name.
pub const HEADER: &str = "Content-Security-Policy";

/// The policy of every HTML page: scripts, styles, images and connections from this origin
/// only, and nothing inline. `connect-src 'self'` also covers `ws:`/`wss:` to this host and
/// port (CSP Level 3); writing `ws: wss:` instead would allow sockets to any host.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'self'; \
     report-uri /api/csp-reports";

/// The page that runs every technique at once.
const LAB_PATH: &str = "/compare";

/// The policy of the lab (`/compare`): the page policy, plus scripts and connections from this
/// server's other loopback names on the same port. The lab holds some of its streams there,
/// because a browser gives each host name only six connections (see `access::cors`). CSP has
/// no syntax for IPv6 literals, so a lab opened on `[::1]` holds its streams on `127.0.0.1`.
pub fn lab_policy(port: u16) -> String {
    let siblings = ["127.0.0.1", "localhost"]
        .map(|host| format!("http://{host}:{port}"))
        .join(" ");
    PAGE_POLICY
        .replacen(
            "script-src 'self'",
            &format!("script-src 'self' {siblings}"),
            1,
        )
        .replacen(
            "connect-src 'self'",
            &format!("connect-src 'self' {siblings}"),
            1,
        )
}

/// A fresh nonce: 16 random bytes from a cryptographic generator, as 32 hex digits.
pub fn nonce() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        // Writing into a String cannot fail.
        let _infallible = write!(hex, "{b:02x}");
        hex
    })
}

/// The policy of a forever-iframe document: nothing may load, and only its own scripts,
/// which carry `nonce`, may run; only pages of this site may frame it.
pub fn iframe_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'self'; report-uri /api/csp-reports"
    )
}

/// Adds [`PAGE_POLICY`] to every `text/html` answer (pages and error pages) that has no
/// policy yet. JSON, scripts and streams of other types need none.
pub struct PolicyFairing;

#[rocket::async_trait]
impl Fairing for PolicyFairing {
    fn info(&self) -> Info {
        Info {
            name: "Content-Security-Policy",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let html = response.content_type().is_some_and(|t| t.is_html());
        if html && !response.headers().contains(HEADER) {
            let policy = if request.uri().path() == LAB_PATH {
                lab_policy(request.rocket().config().port)
            } else {
                PAGE_POLICY.to_owned()
            };
            response.set_header(Header::new(HEADER, policy));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_32_hex_digits_and_differ() {
        let (a, b) = (nonce(), nonce());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn no_policy_allows_inline_code_or_other_hosts() {
        for policy in [
            PAGE_POLICY.to_owned(),
            iframe_policy(&nonce()),
            lab_policy(8000),
        ] {
            for loose in ["'unsafe-inline'", "'unsafe-eval'", "*", "data:", "ws:"] {
                assert!(!policy.contains(loose), "{loose} in {policy}");
            }
        }
    }
}
