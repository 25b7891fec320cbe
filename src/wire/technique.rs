//! The nine techniques, by their slugs (the pages' URLs, the metrics' `transport` label and
//! the experiment's rows).

use std::fmt;
use std::str::FromStr;

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

    pub fn slug(self) -> &'static str {
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
