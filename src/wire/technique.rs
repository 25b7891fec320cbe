//! The nine techniques: the one key of everything that is per technique. A technique knows
//! its slug (the page's URL, the metrics' `transport` label, the experiment's row), its title
//! and its [`Shape`]. Each transport names its technique once, with a marker type that
//! implements [`Serves`]; the guard that admits the route's requests takes the technique's
//! meter from it. Every match here is exhaustive, so a new technique fails to compile until
//! it has all three.

use std::fmt;
use std::str::FromStr;

use rocket::request::Request;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Technique {
    Polling,
    JsonpPolling,
    Piggyback,
    ForeverIframe,
    MultipartStreaming,
    ServerSentEvents,
    ScriptLongPolling,
    LongPolling,
    WebSocket,
}

/// How a technique delivers, which decides what its demo shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// One request, answered at once.
    Poll,
    /// One request, held until there is something to answer.
    HeldPoll,
    /// One response that goes on, an event at a time.
    Stream,
    /// One connection both ways.
    Socket,
}

impl Technique {
    /// All nine, in the article's order.
    pub const ALL: [Technique; 9] = [
        Technique::Polling,
        Technique::JsonpPolling,
        Technique::Piggyback,
        Technique::ForeverIframe,
        Technique::MultipartStreaming,
        Technique::ServerSentEvents,
        Technique::ScriptLongPolling,
        Technique::LongPolling,
        Technique::WebSocket,
    ];

    pub const fn slug(self) -> &'static str {
        match self {
            Technique::Polling => "polling",
            Technique::JsonpPolling => "jsonp-polling",
            Technique::Piggyback => "piggyback",
            Technique::ForeverIframe => "forever-iframe",
            Technique::MultipartStreaming => "multipart-streaming",
            Technique::ServerSentEvents => "server-sent-events",
            Technique::ScriptLongPolling => "script-long-polling",
            Technique::LongPolling => "long-polling",
            Technique::WebSocket => "websocket",
        }
    }

    /// The title of the technique's page.
    pub const fn title(self) -> &'static str {
        match self {
            Technique::Polling => "HTTP polling",
            Technique::JsonpPolling => "JSONP polling",
            Technique::Piggyback => "Piggyback polling",
            Technique::ForeverIframe => "Forever iframe",
            Technique::MultipartStreaming => "Multipart XHR streaming",
            Technique::ServerSentEvents => "Server-Sent Events",
            Technique::ScriptLongPolling => "Script-tag long polling",
            Technique::LongPolling => "XHR long polling",
            Technique::WebSocket => "WebSocket",
        }
    }

    pub const fn shape(self) -> Shape {
        match self {
            Technique::Polling | Technique::JsonpPolling | Technique::Piggyback => Shape::Poll,
            Technique::ScriptLongPolling | Technique::LongPolling => Shape::HeldPoll,
            Technique::ForeverIframe
            | Technique::MultipartStreaming
            | Technique::ServerSentEvents => Shape::Stream,
            Technique::WebSocket => Shape::Socket,
        }
    }
}

/// What a transport's route serves, named by a marker type in the transport's module (the
/// guards of `crate::transports::guard` take it as their type parameter).
pub trait Serves: Send + Sync + 'static {
    /// The technique of `request`. Every route serves one, except HTTP polling's, which
    /// answers JSONP polling when it is given a `callback`.
    fn technique(request: &Request<'_>) -> Technique;
}

impl FromStr for Technique {
    type Err = String;

    fn from_str(slug: &str) -> Result<Technique, String> {
        Technique::ALL
            .into_iter()
            .find(|t| t.slug() == slug)
            .ok_or_else(|| {
                let all: Vec<&str> = Technique::ALL.iter().map(|t| t.slug()).collect();
                format!(
                    "unknown technique {slug:?}; the techniques are {}",
                    all.join(", ")
                )
            })
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slug_parses_back() {
        for technique in Technique::ALL {
            assert_eq!(technique.slug().parse(), Ok(technique));
        }
        assert!("comet".parse::<Technique>().is_err());
    }
}
