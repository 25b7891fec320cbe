//! The benchmark cases: which technique, how many subscribers, how fast events are published
//! and for how long. The default set is the table in the README; the command line may pick
//! some of them and override their size.

use reverse_ajax::load::peer::nchan_speaks;
use reverse_ajax::wire::Technique;

/// The name of a technique in the report.
pub fn label(technique: Technique) -> &'static str {
    match technique {
        Technique::ServerSentEvents => "SSE",
        Technique::WebSocket => "WebSocket",
        Technique::LongPolling => "long poll",
        Technique::ForeverIframe => "forever iframe",
        Technique::MultipartStreaming => "multipart",
        _ => technique.slug(),
    }
}

/// One load shape.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: &'static str,
    pub technique: Technique,
    pub subscribers: usize,
    /// Events published per second.
    pub rate: u32,
    pub seconds: u32,
}

impl Case {
    /// How many events one run publishes.
    pub fn events(&self) -> u64 {
        u64::from(self.rate) * u64::from(self.seconds)
    }

    /// One line for `--list` and for the report.
    pub fn describe(&self) -> String {
        let only = if nchan_speaks(self.technique) {
            ""
        } else {
            " (ours only)"
        };
        format!(
            "{}: {}{only}, {} subscribers, {} events/s for {} s",
            self.id,
            label(self.technique),
            self.subscribers,
            self.rate,
            self.seconds
        )
    }
}

const fn case(
    id: &'static str,
    technique: Technique,
    subscribers: usize,
    rate: u32,
    seconds: u32,
) -> Case {
    Case {
        id,
        technique,
        subscribers,
        rate,
        seconds,
    }
}

/// The default set, in the order it runs.
pub const ALL: [Case; 9] = [
    case("sse-1k-50", Technique::ServerSentEvents, 1000, 50, 10),
    case("ws-1k-50", Technique::WebSocket, 1000, 50, 10),
    case("lp-1k-10", Technique::LongPolling, 1000, 10, 10),
    case("sse-1k-1000", Technique::ServerSentEvents, 1000, 1000, 5),
    case("ws-1k-1000", Technique::WebSocket, 1000, 1000, 5),
    case("sse-10k-50", Technique::ServerSentEvents, 10_000, 50, 10),
    case("ws-10k-50", Technique::WebSocket, 10_000, 50, 10),
    case("iframe-1k-50", Technique::ForeverIframe, 1000, 50, 10),
    case(
        "multipart-1k-50",
        Technique::MultipartStreaming,
        1000,
        50,
        10,
    ),
];

/// The cases named in a comma-separated list, in the list's order.
pub fn pick(list: &str) -> Result<Vec<Case>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            ALL.iter()
                .find(|c| c.id == id)
                .cloned()
                .ok_or_else(|| format!("there is no case named {id:?} (--list shows the cases)"))
        })
        .collect()
}
