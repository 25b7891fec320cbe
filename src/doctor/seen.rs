//! What the server saw of a doctor's request: the headers that arrived, with everything that
//! could be a secret left out, and the proxy headers picked out, since they are often the
//! first clue to what stands in between.

use rocket::request::Request;
use serde::Serialize;

/// The headers that say a proxy handled the request.
const PROXY: &[&str] = &[
    "via",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-real-ip",
];

/// Names never shown, and the parts of names that suggest a secret.
const SECRET: &[&str] = &[
    "cookie", "auth", "token", "secret", "key", "session", "csrf", "xsrf", "password",
];

/// The longest value shown, in characters; longer ones are cut with an ellipsis.
const MAX_VALUE: usize = 200;
/// The most headers shown.
const MAX_HEADERS: usize = 40;

/// One header as shown.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Shown {
    pub name: String,
    pub value: String,
    /// True for the proxy headers ([`PROXY`]).
    pub proxy: bool,
}

/// What the server saw: the headers (no secrets), how many were left out as possible
/// secrets, and the peer address of the connection.
#[derive(Debug, Serialize)]
pub struct Seen {
    pub headers: Vec<Shown>,
    pub withheld: usize,
    pub peer: Option<String>,
}

/// True when a header called `name` (lower case) could carry a secret.
fn secret(name: &str) -> bool {
    SECRET.iter().any(|part| name.contains(part))
}

fn shorten(value: &str) -> String {
    match value.char_indices().nth(MAX_VALUE) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_owned(),
    }
}

impl Seen {
    pub fn of(request: &Request<'_>) -> Seen {
        let mut headers = Vec::new();
        let mut withheld = 0;
        for header in request.headers().iter() {
            let name = header.name().as_str().to_ascii_lowercase();
            if secret(&name) {
                withheld += 1;
                continue;
            }
            if headers.len() < MAX_HEADERS {
                headers.push(Shown {
                    proxy: PROXY.contains(&name.as_str()),
                    value: shorten(header.value()),
                    name,
                });
            }
        }
        // The proxy headers first, the rest in the order they came.
        headers.sort_by_key(|h| !h.proxy);
        Seen {
            headers,
            withheld,
            peer: request.remote().map(|a| a.ip().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_by_their_names() {
        for name in [
            "cookie",
            "authorization",
            "proxy-authorization",
            "x-api-key",
            "x-csrf-token",
        ] {
            assert!(secret(name), "{name}");
        }
        for name in ["via", "x-forwarded-for", "user-agent", "accept"] {
            assert!(!secret(name), "{name}");
        }
        assert_eq!(shorten("short"), "short");
        assert_eq!(shorten(&"a".repeat(300)).chars().count(), MAX_VALUE + 1);
    }
}
