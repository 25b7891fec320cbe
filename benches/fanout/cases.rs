//! The benchmark cases: which technique, how many subscribers, how fast events are published
//! and for how long, and for the scale-out cases on how many channels and instances and on
//! which Redis. The default set is the table in the README; the command line may pick some of
//! them and override their size.

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

/// Where our server's hub keeps the events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The memory backend of one process (and Nchan's own memory).
    Memory,
    /// One Redis server, named by `REDIS_URL` (ours only).
    Redis,
    /// A Redis Cluster, its nodes named by `REDIS_CLUSTER_URLS` (ours only).
    Cluster,
}

/// One load shape.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: &'static str,
    pub technique: Technique,
    pub subscribers: usize,
    /// Events published per second, over all channels.
    pub rate: u32,
    pub seconds: u32,
    /// Channels the events go round; subscriber j listens on channel `j % channels`.
    pub channels: usize,
    /// Instances of our server; see [`Case::place`] for which one a subscriber takes.
    pub instances: usize,
    pub backend: Backend,
    /// Each channel's subscribers all on one instance (channel c on instance
    /// `c % instances`), rather than round-robin.
    pub split: bool,
}

impl Case {
    /// How many events one run publishes: a whole number for each channel, at least one.
    pub fn events(&self) -> u64 {
        self.per_channel() * self.channels.max(1) as u64
    }

    /// How many events each channel, and so each subscriber, gets.
    pub fn per_channel(&self) -> u64 {
        let all = u64::from(self.rate) * u64::from(self.seconds);
        (all / self.channels.max(1) as u64).max(1)
    }

    /// The instance and the channel of subscriber `j`: channel `j % channels`, and instance
    /// `j % instances` (round-robin, so every instance has subscribers on every channel) or,
    /// for a split case, `channel % instances`.
    pub fn place(&self, j: usize) -> (usize, usize) {
        let channel = j % self.channels.max(1);
        let by = if self.split { channel } else { j };
        (by % self.instances.max(1), channel)
    }

    /// True for the cases only our server runs: a Redis hub, or several instances.
    pub fn ours_only(&self) -> bool {
        !nchan_speaks(self.technique) || self.backend != Backend::Memory
    }

    /// One line for `--list` and for the report.
    pub fn describe(&self) -> String {
        let only = if self.ours_only() { " (ours only)" } else { "" };
        let mut line = format!(
            "{}: {}{only}, {} subscribers, {} events/s for {} s",
            self.id,
            label(self.technique),
            self.subscribers,
            self.rate,
            self.seconds
        );
        if self.channels > 1 {
            line += &format!(" over {} channels", self.channels);
        }
        match self.backend {
            Backend::Memory => {}
            Backend::Redis => line += &format!(", {} on one Redis", instances(self.instances)),
            Backend::Cluster => {
                line += &format!(", {} on Redis Cluster", instances(self.instances))
            }
        }
        if self.split {
            line += ", each channel's subscribers on one instance";
        }
        line
    }
}

/// "1 instance", "3 instances".
fn instances(n: usize) -> String {
    if n == 1 {
        "1 instance".to_owned()
    } else {
        format!("{n} instances")
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
        channels: 1,
        instances: 1,
        backend: Backend::Memory,
        split: false,
    }
}

/// A scale-out case: SSE subscribers spread over `channels` channels and `instances`
/// instances of ours sharing `backend`.
const fn scaled(
    id: &'static str,
    (subscribers, channels): (usize, usize),
    (rate, seconds): (u32, u32),
    (instances, backend): (usize, Backend),
) -> Case {
    Case {
        id,
        technique: Technique::ServerSentEvents,
        subscribers,
        rate,
        seconds,
        channels,
        instances,
        backend,
        split: false,
    }
}

/// A scale-out case whose channels are split between the instances.
const fn split(mut case: Case) -> Case {
    case.split = true;
    case
}

/// The default set, in the order it runs. The last five are the scale-out cases (issue 24):
/// each cluster case next to its twin of one instance on one Redis, and the channels split
/// between the instances; they run only when `REDIS_CLUSTER_URLS` or `REDIS_URL` names the
/// Redis.
pub const ALL: [Case; 14] = [
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
    scaled(
        "redis-10k-1k",
        (10_000, 1000),
        (500, 10),
        (1, Backend::Redis),
    ),
    scaled(
        "cluster-10k-1k",
        (10_000, 1000),
        (500, 10),
        (3, Backend::Cluster),
    ),
    split(scaled(
        "cluster-10k-1k-split",
        (10_000, 1000),
        (500, 10),
        (3, Backend::Cluster),
    )),
    scaled("redis-1k-1ch", (1000, 1), (50, 10), (1, Backend::Redis)),
    scaled("cluster-1k-1ch", (1000, 1), (50, 10), (3, Backend::Cluster)),
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
