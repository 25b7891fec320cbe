//! The benchmark cases: which transport, how many subscribers, how fast events are published
//! and for how long. The default set is the table in the README; the command line may pick
//! some of them and override their size.

use std::fmt;

/// How subscribers receive events.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Transport {
    Sse,
    WebSocket,
    LongPoll,
    Iframe,
    Multipart,
}

impl Transport {
    /// True when Nchan has this transport too, so the case compares the two servers.
    pub fn nchan_has_it(self) -> bool {
        matches!(
            self,
            Transport::Sse | Transport::WebSocket | Transport::LongPoll
        )
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Sse => "SSE",
            Transport::WebSocket => "WebSocket",
            Transport::LongPoll => "long poll",
            Transport::Iframe => "forever iframe",
            Transport::Multipart => "multipart",
        })
    }
}

/// One load shape.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: &'static str,
    pub transport: Transport,
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
        let only = if self.transport.nchan_has_it() {
            ""
        } else {
            " (ours only)"
        };
        format!(
            "{}: {}{only}, {} subscribers, {} events/s for {} s",
            self.id, self.transport, self.subscribers, self.rate, self.seconds
        )
    }
}

const fn case(
    id: &'static str,
    transport: Transport,
    subscribers: usize,
    rate: u32,
    seconds: u32,
) -> Case {
    Case {
        id,
        transport,
        subscribers,
        rate,
        seconds,
    }
}

/// The default set, in the order it runs.
pub const ALL: [Case; 9] = [
    case("sse-1k-50", Transport::Sse, 1000, 50, 10),
    case("ws-1k-50", Transport::WebSocket, 1000, 50, 10),
    case("lp-1k-10", Transport::LongPoll, 1000, 10, 10),
    case("sse-1k-1000", Transport::Sse, 1000, 1000, 5),
    case("ws-1k-1000", Transport::WebSocket, 1000, 1000, 5),
    case("sse-10k-50", Transport::Sse, 10_000, 50, 10),
    case("ws-10k-50", Transport::WebSocket, 10_000, 50, 10),
    case("iframe-1k-50", Transport::Iframe, 1000, 50, 10),
    case("multipart-1k-50", Transport::Multipart, 1000, 50, 10),
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
