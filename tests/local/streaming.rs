//! Helpers for the streaming and held transports: a reader that takes a streamed body line by
//! line under a timeout, short timing settings, and a few cursors.

use std::time::Duration;

use rocket::figment::Figment;
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::tokio::io::{AsyncBufReadExt, BufReader};
use serde_json::Value;

use crate::common::within;

/// How long any single read from a stream may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A cursor whose epoch no channel can have (real epochs are 8 characters long).
pub const UNKNOWN_EPOCH: &str = "neverseen0-3";

/// Short heartbeats and probes and a short long-poll cap, for tests where time matters.
pub fn quick(figment: Figment) -> Figment {
    figment
        .merge(("push.long_poll_max_ms", 300))
        .merge(("push.heartbeat_ms", 100))
        .merge(("push.probe_ms", 50))
}

/// Asserts that `data` is a hello's: the server's time in milliseconds since the Unix epoch
/// (within a minute of this machine's clock) and the heartbeat interval `heartbeat_ms`, and
/// nothing else (besides `"type":"hello"` in a control frame).
pub fn assert_hello(data: &Value, heartbeat_ms: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_millis() as u64;
    let time = data["time"].as_u64().expect("a time in ms");
    assert!(time.abs_diff(now) < 60_000, "time {time}, now {now}");
    assert_eq!(data["heartbeat_ms"], heartbeat_ms, "{data}");
    let keys = data.as_object().expect("an object").len();
    let control = usize::from(data.get("type").is_some());
    assert_eq!(keys, 2 + control, "{data}");
    if control == 1 {
        assert_eq!(data["type"], "hello", "{data}");
    }
}

/// The heartbeat interval of the shipped configuration, in milliseconds.
pub const HEARTBEAT_MS: u64 = 15_000;

/// The head of `ch` (the id of its last event, `<epoch>-0` when it has none), by polling.
pub async fn head(client: &Client, ch: &str) -> String {
    let response = client
        .get(format!("/api/channels/{ch}/events"))
        .dispatch()
        .await;
    let answer: Value = response.into_json().await.expect("a JSON poll answer");
    answer["next"].as_str().expect("next").to_owned()
}

/// The `n`-th id after `id` on the same epoch (`abc-3` + 2 = `abc-5`).
pub fn plus(id: &str, n: u64) -> String {
    let (epoch, seq) = id.rsplit_once('-').expect("an id");
    format!(
        "{epoch}-{}",
        seq.parse::<u64>().expect("a sequence number") + n
    )
}

/// The id `seq` on the epoch of `id` (`abc-3`, 0 gives `abc-0`).
pub fn at(id: &str, seq: u64) -> String {
    let (epoch, _) = id.rsplit_once('-').expect("an id");
    format!("{epoch}-{seq}")
}

/// Asserts the headers every stream and held answer carries.
pub fn assert_stream_headers(response: &LocalResponse<'_>) {
    let headers = response.headers();
    assert_eq!(headers.get_one("Cache-Control"), Some("no-store"));
    assert_eq!(headers.get_one("X-Accel-Buffering"), Some("no"));
    assert_eq!(headers.get_one("X-Content-Type-Options"), Some("nosniff"));
}

/// A streamed body, read as it arrives.
pub struct Stream<'c> {
    body: BufReader<LocalResponse<'c>>,
}

impl<'c> Stream<'c> {
    pub fn new(response: LocalResponse<'c>) -> Stream<'c> {
        Stream {
            body: BufReader::new(response),
        }
    }

    /// The first piece of the body that arrives, left unread for the next `line`.
    pub async fn first_chunk(&mut self) -> String {
        let chunk = within(PATIENCE, self.body.fill_buf())
            .await
            .expect("a read");
        String::from_utf8(chunk.to_vec()).expect("UTF-8")
    }

    /// The next piece of the body that arrives (one write of the server's, when the reader
    /// keeps up), consumed.
    pub async fn chunk(&mut self) -> String {
        let chunk = self.first_chunk().await;
        self.body.consume(chunk.len());
        chunk
    }

    /// The next line without its line break, or `None` at the end of the body.
    pub async fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        let read = within(PATIENCE, self.body.read_line(&mut line))
            .await
            .expect("a read");
        if read == 0 {
            return None;
        }
        let end = line.trim_end_matches(['\r', '\n']).len();
        line.truncate(end);
        Some(line)
    }

    /// Every remaining line, once the body has ended.
    pub async fn rest(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(line) = self.line().await {
            lines.push(line);
        }
        lines
    }

    /// The next line for which `keep` returns something, skipping the others.
    pub async fn next_matching<T>(&mut self, keep: impl Fn(&str) -> Option<T>) -> Option<T> {
        while let Some(line) = self.line().await {
            if let Some(found) = keep(&line) {
                return Some(found);
            }
        }
        None
    }
}

/// The ids of a list of envelopes.
pub fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// `count` ids starting at `first` (`abc-4`, 3 gives `abc-4`, `abc-5`, `abc-6`).
pub fn run_of(first: &str, count: u64) -> Vec<String> {
    (0..count).map(|n| plus(first, n)).collect()
}
