//! What one client received, and the frames it reads them from. The experiment's publisher
//! puts `{"n": <its count>, "sent_us": <unix µs>}` in every event's data, so a client can tell
//! lost and duplicate events apart by `n` and time each delivery from the moment of publishing.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::Value;

/// Microseconds since the UNIX epoch, now.
pub fn now_us() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// An event envelope; only what the experiment reads of it.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub id: String,
    data: Value,
}

impl Envelope {
    /// `(n, sent_us)` when the experiment's publisher sent this event.
    fn stamp(&self) -> Option<(u64, u64)> {
        Some((
            self.data.get("n")?.as_u64()?,
            self.data.get("sent_us")?.as_u64()?,
        ))
    }
}

/// The answer of a poll, a long poll or a piggyback post.
#[derive(Debug, Deserialize)]
pub struct Batch {
    pub events: Vec<Envelope>,
    pub next: Option<String>,
    #[serde(default)]
    pub reset: bool,
}

/// One frame of a stream or a WebSocket.
#[derive(Debug)]
pub enum Frame {
    Event(Envelope),
    /// The cursor could not be honoured; go on from `next`.
    Reset(String),
    /// The server ends the stream (`budget`, `lagged`, `shutdown`); resume from `next`.
    End {
        reason: String,
        next: Option<String>,
    },
    /// Heartbeats and anything else that carries no event.
    Other,
}

impl Frame {
    /// Reads a frame in the streams' shape: a control object with a `type` (an iframe's
    /// events are `{"type":"event","event":…}`) or a bare envelope.
    pub fn parse(json: &[u8]) -> Result<Frame, String> {
        let value: Value =
            serde_json::from_slice(json).map_err(|e| format!("a frame that is not JSON: {e}"))?;
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let envelope = |v: Value| {
            serde_json::from_value(v)
                .map(Frame::Event)
                .map_err(|e| format!("a bad event: {e}"))
        };
        match value.get("type").and_then(Value::as_str) {
            Some("event") => envelope(value.get("event").cloned().unwrap_or(Value::Null)),
            Some("reset") => text("next")
                .map(Frame::Reset)
                .ok_or_else(|| "a reset frame without `next`".to_owned()),
            Some("end") => Ok(Frame::End {
                reason: text("reason").ok_or("an end frame without `reason`")?,
                next: text("next"),
            }),
            Some(_) => Ok(Frame::Other),
            None => envelope(value),
        }
    }
}

/// One client's counts.
#[derive(Debug, Default)]
pub struct Tally {
    /// How many times each event (by `n`) arrived.
    seen: HashMap<u64, u32>,
    /// Publish-to-arrival time of each first delivery, in µs.
    pub latencies_us: Vec<u64>,
    pub requests: u64,
    pub empty: u64,
    pub resets: u64,
}

impl Tally {
    /// Records one event as it arrives; returns whether it was new to this client.
    pub fn event(&mut self, envelope: &Envelope) -> bool {
        let Some((n, sent_us)) = envelope.stamp() else {
            return false; // not the experiment's event
        };
        let count = self.seen.entry(n).or_default();
        *count += 1;
        if *count == 1 {
            self.latencies_us.push(now_us().saturating_sub(sent_us));
        }
        *count == 1
    }

    /// Records a batch answer's events; an answer with nothing new counts as empty.
    pub fn batch(&mut self, batch: &Batch) {
        if batch.reset {
            self.resets += 1;
        }
        let fresh = batch.events.iter().filter(|e| self.event(e)).count();
        if fresh == 0 {
            self.empty += 1;
        }
    }

    /// Distinct events among the first `published`, and the deliveries beyond the first.
    pub fn delivered(&self, published: u64) -> (u64, u64) {
        let distinct = self.seen.keys().filter(|&&n| n < published).count() as u64;
        let extra = self.seen.values().map(|&c| u64::from(c) - 1).sum();
        (distinct, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_every_shape() {
        let iframe = br#"{"type":"event","event":{"id":"a-1","data":{"n":0,"sent_us":1}}}"#;
        assert!(matches!(Frame::parse(iframe), Ok(Frame::Event(e)) if e.id == "a-1"));
        let bare = br#"{"id":"a-2","channel":"c","data":"x","at":"t"}"#;
        assert!(matches!(Frame::parse(bare), Ok(Frame::Event(e)) if e.stamp().is_none()));
        let reset = br#"{"type":"reset","next":"b-0","reason":"unknown_epoch"}"#;
        assert!(matches!(Frame::parse(reset), Ok(Frame::Reset(n)) if n == "b-0"));
        let end = br#"{"type":"end","reason":"budget","next":"a-9"}"#;
        assert!(matches!(Frame::parse(end), Ok(Frame::End { reason, .. }) if reason == "budget"));
        assert!(matches!(
            Frame::parse(br#"{"type":"heartbeat"}"#),
            Ok(Frame::Other)
        ));
        let hello = br#"{"type":"hello","time":1,"heartbeat_ms":15000}"#;
        assert!(matches!(Frame::parse(hello), Ok(Frame::Other)));
        assert!(Frame::parse(b"nope").is_err());
    }

    #[test]
    fn a_tally_counts_duplicates_and_empty_answers() {
        let batch: Batch = serde_json::from_str(
            r#"{"events":[{"id":"a-1","data":{"n":0,"sent_us":0}},
                          {"id":"a-2","data":{"n":1,"sent_us":0}}],"next":"a-2","reset":false}"#,
        )
        .unwrap();
        let mut tally = Tally::default();
        tally.batch(&batch);
        tally.batch(&batch);
        assert_eq!(tally.empty, 1);
        assert_eq!(tally.delivered(3), (2, 2));
        assert_eq!(tally.latencies_us.len(), 2);
    }
}
