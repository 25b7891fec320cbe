//! The list of techniques the site teaches, in the article's order, with the source files
//! each page shows. The sources are compiled in from the real files, so a page can never show
//! code that differs from the code that runs.
//!
//! A technique's row names its slug once. The slug gives the page's template
//! (`templates/techniques/<slug>.html.tera`), its script (`static/js/techniques/<slug>.js`)
//! and the first code panel, "Client", showing that script; all three are compiled in or
//! checked here, so a missing file fails the build.

use rocket::fairing::AdHoc;
use serde::Serialize;

use super::code::{Cache, Panel};
pub use super::code::{Essence, Source};
use crate::wire::Technique as Wire;

/// A technique and its page.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Technique {
    pub slug: &'static str,
    pub title: &'static str,
    pub family: &'static str,
    pub summary: &'static str,
    /// The files the page shows, its own script first. Pages get them highlighted from
    /// [`Technique::panels`], so the index does not carry them.
    #[serde(skip)]
    pub sources: &'static [Source],
}

/// Every page's code panels, one group per technique in catalog order.
static PANELS: Cache = Cache::new(|| TECHNIQUES.iter().map(|t| t.sources).collect());

impl Technique {
    /// The page's code panels, highlighted once per process. Never waits: until the
    /// highlighting started at ignite is done, the panels come escaped but plain.
    pub fn panels(&self) -> &'static [Panel] {
        TECHNIQUES
            .iter()
            .position(|t| t.slug == self.slug)
            .map_or(&[], |i| PANELS.panels(i))
    }
}

/// Every page's code panels highlighted: done once per process, waiting for it if it is
/// under way.
pub fn highlighted() -> &'static [Vec<Panel>] {
    PANELS.highlighted()
}

/// Starts highlighting every page's code panels at ignite, so no request waits for it.
pub fn stage() -> AdHoc {
    PANELS.stage()
}

/// `Some(to)` when the essence names a second anchor, `None` otherwise.
macro_rules! maybe {
    () => {
        None
    };
    ($to:literal) => {
        Some($to)
    };
}

/// One more file for a page's code panels: its label, its path from the crate root and its
/// essence, `"from"` or `"from" ..= "to"` (see [`Essence`]).
macro_rules! source {
    ($label:literal, $path:literal, $from:literal $(..= $to:literal)?) => {
        Source {
            label: $label,
            path: $path,
            text: include_str!(concat!("../../", $path)),
            essence: Essence {
                from: $from,
                to: maybe!($($to)?),
            },
        }
    };
}

/// A technique's row: everything that follows from the slug is derived here.
macro_rules! technique {
    (
        slug: $slug:literal,
        title: $title:expr,
        family: $family:literal,
        summary: $summary:literal,
        client: $from:literal $(..= $to:literal)?,
        more: [$($more:expr),* $(,)?] $(,)?
    ) => {{
        // Templates are read at run time; this only makes a missing one fail the build.
        const _: &str = include_str!(concat!("../../templates/techniques/", $slug, ".html.tera"));
        Technique {
            slug: $slug,
            title: $title,
            family: $family,
            summary: $summary,
            sources: &[
                Source {
                    label: "Client",
                    path: concat!("static/js/techniques/", $slug, ".js"),
                    text: include_str!(concat!("../../static/js/techniques/", $slug, ".js")),
                    essence: Essence {
                        from: $from,
                        to: maybe!($($to)?),
                    },
                },
                $($more),*
            ],
        }
    }};
}

pub const TECHNIQUES: &[Technique] = &[
    technique! {
        slug: "postal-code",
        title: "Listing 1: JSONP postal-code lookup",
        family: "Ajax and JSONP",
        summary: "Fill in a place name from a postal code with a script request, the way pages once asked other sites.",
        client: "const { callback, value, src } = await jsonp(url" ..= "showChoices(places);",
        more: [source!("Server", "src/postal/mod.rs", "#[get(\"/api/postalcodes")],
    },
    technique! {
        slug: "polling",
        title: Wire::Polling.title(),
        family: "Polling",
        summary: "Ask the server for news on a timer, and usually hear that there is none.",
        client: "import { autostart }" ..= "autostart('polling', start);",
        more: [
            source!("Transport", "static/client/transports/polling.js", "// HTTP polling" ..= "};"),
            source!("Poll loop", "static/client/transports/poll.js", "const step = async (first) => {"),
            source!("Server", "src/transports/polling.rs", "#[get("),
        ],
    },
    technique! {
        slug: "jsonp-polling",
        title: Wire::JsonpPolling.title(),
        family: "Polling",
        summary: "Polling through script elements, which may load from any origin.",
        client: "import { autostart }" ..= "autostart('jsonp-polling', start);",
        more: [
            source!("Transport", "static/client/transports/jsonp-polling.js", "// JSONP polling" ..= "};"),
            source!("JSONP request", "static/client/transports/jsonp.js", "const answer = new Promise(" ..= "appendLater("),
            source!("Server", "src/transports/polling.rs", "#[get("),
            source!("JSONP answer", "src/transports/jsonp_polling.rs", "/// The body"),
            source!("JSONP framing", "src/wire/jsonp.rs", "pub fn escape_script"),
        ],
    },
    technique! {
        slug: "piggyback",
        title: Wire::Piggyback.title(),
        family: "Polling",
        summary: "No request just for events: they ride along on answers the page needs anyway.",
        client: "// First half of the answer" ..= "demo.conn.absorb(answer);",
        more: [
            source!("Transport", "static/client/transports/piggyback.js", "// Piggyback" ..= "};"),
            source!("Absorbing an answer", "static/client/reverse-ajax.js", "absorb(answer) {"),
            source!("Server", "src/transports/piggyback.rs", "pub async fn register("),
        ],
    },
    technique! {
        slug: "forever-iframe",
        title: Wire::ForeverIframe.title(),
        family: "Comet streaming",
        summary: "A hidden iframe whose page never finishes loading, one script per event.",
        client: "import { autostart }" ..= "autostart('forever-iframe', start);",
        more: [
            source!("Transport", "static/client/transports/forever-iframe.js", "const iframe = doc.createElement('iframe');" ..= "iframe.src = ctx.url('iframe');"),
            source!("Server", "src/transports/forever_iframe.rs", "fn start(&mut self" ..= "fn event(&mut self"),
            source!("Shared stream loop", "src/transports/stream.rs", "let why = loop"),
            source!("Client reconnection", "static/client/reverse-ajax.js", "/** The server ended the session on purpose"),
        ],
    },
    technique! {
        slug: "multipart-streaming",
        title: Wire::MultipartStreaming.title(),
        family: "Comet streaming",
        summary: "One long response split into parts, one part per event.",
        client: "import { autostart }" ..= "autostart('multipart-streaming', start);",
        more: [
            source!("Transport", "static/client/transports/multipart-streaming.js", "const onText = (text) => {"),
            source!("Reading the stream", "static/client/http.js", "const res = await ctx.env.fetch(url, {" ..= "for (;;) {"),
            source!("Server", "src/transports/multipart_streaming.rs", "impl Framing for Multipart"),
            source!("Shared stream loop", "src/transports/stream.rs", "let why = loop"),
        ],
    },
    technique! {
        slug: "server-sent-events",
        title: Wire::ServerSentEvents.title(),
        family: "Comet streaming",
        summary: "HTTP streaming as a web standard, with ids and reconnection built in.",
        client: "import { autostart }" ..= "autostart('server-sent-events', start);",
        more: [
            source!("Transport", "static/client/transports/server-sent-events.js", "const onText = (text) => {"),
            source!("Frames", "static/client/transports/server-sent-events.js", "const dispatch = ({ event, data }) => {"),
            source!("Server", "src/transports/server_sent_events.rs", "fn start(&mut self" ..= "fn event(&mut self"),
            source!("Shared stream loop", "src/transports/stream.rs", "let why = loop"),
        ],
    },
    technique! {
        slug: "script-long-polling",
        title: Wire::ScriptLongPolling.title(),
        family: "Comet long polling",
        summary: "A JSONP request that the server holds until it has something to say.",
        client: "import { autostart }" ..= "autostart('script-long-polling', start);",
        more: [
            source!("Transport", "static/client/transports/script-long-polling.js", "// Script-tag long polling" ..= "};"),
            source!("JSONP request", "static/client/transports/jsonp.js", "const answer = new Promise(" ..= "appendLater("),
            source!("Poll loop", "static/client/transports/poll.js", "const step = async (first) => {"),
            source!("Server", "src/transports/script_long_polling.rs", "#[get("),
            source!("Held request", "src/transports/held.rs", "> Waiting<R> {"),
        ],
    },
    technique! {
        slug: "long-polling",
        title: Wire::LongPolling.title(),
        family: "Comet long polling",
        summary: "An Ajax request held open until an event arrives, then asked again.",
        client: "import { autostart }" ..= "autostart('long-polling', start);",
        more: [
            source!("Transport", "static/client/transports/long-polling.js", "// XHR long polling" ..= "};"),
            source!("Poll loop", "static/client/transports/poll.js", "const step = async (first) => {"),
            source!("Server", "src/transports/long_polling.rs", "#[get("),
            source!("Held request", "src/transports/held.rs", "> Waiting<R> {"),
        ],
    },
    technique! {
        slug: "websocket",
        title: Wire::WebSocket.title(),
        family: "WebSocket",
        summary: "One full-duplex connection: the server pushes, the browser talks back.",
        client: "form?.addEventListener('submit'",
        more: [
            source!("Transport", "static/client/transports/websocket.js", "open(ctx) {"),
            source!("Server", "src/transports/websocket/mod.rs", "pub async fn websocket("),
            source!("Connection loop", "src/transports/websocket/session.rs", "step = self.pump.next() =>"),
            source!("Client reconnection", "static/client/reverse-ajax.js", "/** The server ended the session on purpose"),
        ],
    },
    technique! {
        slug: "event-log",
        title: "Event log",
        family: "Tools",
        summary: "Your channel's recent events, written into the page by the server, then kept live.",
        client: "log.onEvent = (event) => {" ..= "runPinned('polling'",
        more: [source!("Server", "src/pages/event_log.rs", "let rows: Vec<Row> = batch")],
    },
    technique! {
        slug: "client",
        title: "The client library",
        family: "Tools",
        summary: "One small script that picks the best technique, falls back, resumes and loses nothing.",
        client: "conn = connect(channel(), {",
        more: [
            source!("Library", "static/client/reverse-ajax.js", "// Everything that arrives goes through here" ..= "for (const event of answer.events ?? []) deliver(event);"),
            source!("Fallback rules", "static/client/negotiate.js", "export function decide("),
            source!("Liveness", "static/client/liveness.js", "const timer = env.setInterval(" ..= "}, TICK_MS);"),
        ],
    },
    technique! {
        slug: "doctor",
        title: "The transport doctor",
        family: "Tools",
        summary: "Which techniques survive your network: each one run for a few seconds, with a verdict and the evidence.",
        client: "for (const [i, group] of GROUPS.entries())",
        more: [
            source!("Probe", "static/js/doctor/probe.js", "frame(frame) {" ..= "batch(answer) {"),
            source!("Verdicts", "static/js/doctor/judge.js", "if (rec.hello === null) {"),
            source!("Server feed", "src/doctor/feed.rs", "pub async fn run("),
        ],
    },
    technique! {
        slug: "compare",
        title: "All techniques at once",
        family: "Tools",
        summary: "Every transport side by side, with what each one costs.",
        client: "/** A stand-in for `document`",
        more: [
            source!("Cross-origin reads", "src/access/cors.rs", "async fn on_response"),
            source!("Experiments from the web", "src/experiment/web/mod.rs", "fn follow("),
        ],
    },
];

/// The technique with this slug, if any.
pub fn find(slug: &str) -> Option<&'static Technique> {
    TECHNIQUES.iter().find(|t| t.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::code::ESSENCE_LINES;

    #[test]
    fn every_transport_has_its_page() {
        for transport in Wire::ALL {
            let page = find(transport.slug()).expect("a page");
            assert_eq!(page.title, transport.title(), "{transport}");
        }
    }

    #[test]
    fn slugs_are_unique_and_pages_show_their_script_first() {
        for (i, t) in TECHNIQUES.iter().enumerate() {
            assert!(
                TECHNIQUES[i + 1..].iter().all(|o| o.slug != t.slug),
                "{} twice",
                t.slug
            );
            let script = format!("static/js/techniques/{}.js", t.slug);
            assert_eq!(
                (t.sources[0].label, t.sources[0].path),
                ("Client", script.as_str())
            );
        }
    }

    #[test]
    fn every_essence_is_found_and_short() {
        let mut wrong = Vec::new();
        for technique in TECHNIQUES {
            for source in technique.sources {
                let at = format!("{}: {}", technique.slug, source.path);
                match source.essence.lines(source.text) {
                    Err(e) => wrong.push(format!("{at}: {e}")),
                    Ok(lines) if !ESSENCE_LINES.contains(&lines.len()) => wrong.push(format!(
                        "{at}: the essence from {:?} is {} lines, not {ESSENCE_LINES:?}",
                        source.essence.from,
                        lines.len()
                    )),
                    Ok(_) => {}
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
