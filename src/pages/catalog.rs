//! The list of techniques the site teaches, in the article's order, with the source files
//! each page shows. The sources are compiled in from the real files, so a page can never show
//! code that differs from the code that runs.

use serde::Serialize;

/// One file shown in a page's code panel.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Source {
    pub label: &'static str,
    pub path: &'static str,
    pub text: &'static str,
}

macro_rules! source {
    ($label:literal, $path:literal) => {
        Source {
            label: $label,
            path: $path,
            text: include_str!(concat!("../../", $path)),
        }
    };
}

/// A technique and its page.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Technique {
    pub slug: &'static str,
    pub title: &'static str,
    pub family: &'static str,
    pub summary: &'static str,
    /// False for techniques whose page is not written yet: listed, but not linked.
    pub built: bool,
    pub sources: &'static [Source],
}

pub const TECHNIQUES: &[Technique] = &[
    Technique {
        slug: "postal-code",
        title: "Listing 1: JSONP postal-code lookup",
        family: "Ajax and JSONP",
        summary: "Fill in a place name from a postal code with a cross-origin script request.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/postal-code.js"),
            source!("Server", "src/postal/mod.rs"),
        ],
    },
    Technique {
        slug: "polling",
        title: "HTTP polling",
        family: "Polling",
        summary: "Ask the server for news on a timer, and usually hear that there is none.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/polling.js"),
            source!("Server", "src/transports/polling.rs"),
            source!("Client cursor and fetch", "static/js/lib/cursor.js"),
        ],
    },
    Technique {
        slug: "jsonp-polling",
        title: "JSONP polling",
        family: "Polling",
        summary: "Polling through script elements, which may load from any origin.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/jsonp-polling.js"),
            source!("Server", "src/transports/jsonp_polling.rs"),
            source!("JSONP framing", "src/wire/jsonp.rs"),
        ],
    },
    Technique {
        slug: "piggyback",
        title: "Piggyback polling",
        family: "Polling",
        summary: "No request just for events: they ride along on answers the page needs anyway.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/piggyback.js"),
            source!("Server", "src/transports/piggyback.rs"),
        ],
    },
    Technique {
        slug: "forever-iframe",
        title: "Forever iframe",
        family: "Comet streaming",
        summary: "A hidden iframe whose page never finishes loading, one script per event.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/forever-iframe.js"),
            source!("Server", "src/transports/forever_iframe.rs"),
            source!("Shared stream loop", "src/transports/stream.rs"),
            source!("Client reconnection", "static/js/lib/stream.js"),
        ],
    },
    Technique {
        slug: "multipart-streaming",
        title: "Multipart XHR streaming",
        family: "Comet streaming",
        summary: "One long response split into parts, one part per event.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/multipart-streaming.js"),
            source!("Server", "src/transports/multipart_streaming.rs"),
            source!("Shared stream loop", "src/transports/stream.rs"),
            source!("Client reconnection", "static/js/lib/stream.js"),
        ],
    },
    Technique {
        slug: "server-sent-events",
        title: "Server-Sent Events",
        family: "Comet streaming",
        summary: "HTTP streaming as a web standard, with ids and reconnection built in.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/server-sent-events.js"),
            source!("Server", "src/transports/server_sent_events.rs"),
            source!("Shared stream loop", "src/transports/stream.rs"),
        ],
    },
    Technique {
        slug: "script-long-polling",
        title: "Script-tag long polling",
        family: "Comet long polling",
        summary: "A JSONP request that the server holds until it has something to say.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/script-long-polling.js"),
            source!("Server", "src/transports/script_long_polling.rs"),
            source!("Held request", "src/transports/held.rs"),
            source!("Client loop", "static/js/lib/long-poll.js"),
        ],
    },
    Technique {
        slug: "long-polling",
        title: "XHR long polling",
        family: "Comet long polling",
        summary: "An Ajax request held open until an event arrives, then asked again.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/long-polling.js"),
            source!("Server", "src/transports/long_polling.rs"),
            source!("Held request", "src/transports/held.rs"),
            source!("Client loop", "static/js/lib/long-poll.js"),
            source!("Client cursor and fetch", "static/js/lib/cursor.js"),
        ],
    },
    Technique {
        slug: "websocket",
        title: "WebSocket",
        family: "WebSocket",
        summary: "One full-duplex connection: the server pushes, the browser talks back.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/websocket.js"),
            source!("Server", "src/transports/websocket/mod.rs"),
            source!("Connection loop", "src/transports/websocket/session.rs"),
            source!("Client reconnection", "static/js/lib/stream.js"),
        ],
    },
    Technique {
        slug: "event-log",
        title: "Event log",
        family: "Tools",
        summary: "The demo channel's recent events, rendered by the server, then kept live.",
        built: true,
        sources: &[
            source!("Client", "static/js/techniques/event-log.js"),
            source!("Server", "src/pages/event_log.rs"),
        ],
    },
    Technique {
        slug: "compare",
        title: "All techniques at once",
        family: "Tools",
        summary: "Every transport side by side, with what each one costs.",
        built: false,
        sources: &[],
    },
];

/// The built technique with this slug, if any.
pub fn find(slug: &str) -> Option<&'static Technique> {
    TECHNIQUES.iter().find(|t| t.slug == slug && t.built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_built_pages_show_code() {
        for (i, t) in TECHNIQUES.iter().enumerate() {
            assert!(
                TECHNIQUES[i + 1..].iter().all(|o| o.slug != t.slug),
                "{} twice",
                t.slug
            );
            assert_eq!(
                t.built,
                !t.sources.is_empty(),
                "{}: built pages show their code",
                t.slug
            );
        }
    }
}
