//! Which channel a page shows: the visitor's own (`demo-…`, the same in all their tabs) or
//! `demo`, everyone's. The rule for names is [`crate::wire::visitor`].

use std::convert::Infallible;

use rocket::request::{FromRequest, Outcome, Request};

use crate::hub::Channel;
use crate::wire::{self, visitor};

/// The cookie in which a visitor's pages keep their channel (they write it).
pub const COOKIE: &str = "ra_channel";

/// The channel a page renders for: `?channel=` when it is a visitor channel, else the
/// `ra_channel` cookie when it is one, else a fresh `demo-<12 random [a-z0-9]>`.
#[derive(Debug)]
pub struct Visitor {
    pub channel: Channel,
}

/// The first of the page's query and cookie that names a visitor channel, else a fresh one.
fn choose(query: Option<&str>, cookie: Option<&str>) -> String {
    [query, cookie]
        .into_iter()
        .flatten()
        .find(|name| visitor::is_visitor(name))
        .map_or_else(visitor::fresh, str::to_owned)
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Visitor {
    type Error = Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Infallible> {
        let query = request.query_value::<&str>("channel").and_then(Result::ok);
        let cookie = request.cookies().get(COOKIE).map(|c| c.value());
        let name = choose(query, cookie);
        match wire::channel(&name) {
            Ok(channel) => Outcome::Success(Visitor { channel }),
            // The visitor rule only admits valid channel names.
            Err(_) => Outcome::Success(Visitor {
                channel: visitor::shared(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_the_cookie_then_a_fresh_channel() {
        assert_eq!(
            choose(Some("demo-aaaaaa"), Some("demo-bbbbbb")),
            "demo-aaaaaa"
        );
        assert_eq!(choose(Some("demo"), Some("demo-bbbbbb")), "demo");
        assert_eq!(choose(Some("other"), Some("demo-bbbbbb")), "demo-bbbbbb");
        assert_eq!(choose(None, Some("demo-bbbbbb")), "demo-bbbbbb");
        let fresh = choose(Some("private-x"), Some("NOPE"));
        assert!(visitor::is_own(&fresh), "{fresh}");
        assert!(visitor::is_own(&choose(None, None)));
    }
}
