//! What a client reads in one frame of a stream or a WebSocket, or in one event of a batch:
//! found by scanning the bytes for a few keys rather than parsing the JSON into a tree, so
//! that a benchmark client reading tens of thousands of events a second costs little.
//! Ours sends envelopes `{"id":…,"data":…}` and control frames `{"type":…}` (an iframe's
//! events are `{"type":"event","event":<envelope>}`); Nchan sends the published bytes as
//! they are. Ids, reasons and cursors never hold escapes.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::http::find;

/// One event: its id (the cursor to resume after it, when the server gives one) and the
/// publisher's `(seq, ts)` when it is an event of ours.
#[derive(Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pub id: Option<&'a str>,
    pub stamp: Option<(u64, u64)>,
}

impl Event<'_> {
    /// `(seq, ts)` when the load publisher sent this event.
    pub fn stamp(&self) -> Option<(u64, u64)> {
        self.stamp
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Event(Event<'a>),
    /// The cursor could not be honoured; go on from `next`.
    Reset(&'a str),
    /// The server ends the stream (`budget`, `lagged`, `shutdown`); resume from `next`.
    End {
        reason: &'a str,
        next: Option<&'a str>,
    },
    /// Hello, heartbeats and anything else that carries no event.
    Other,
}

impl<'a> Frame<'a> {
    /// Reads one frame, which must be a JSON object.
    pub fn parse(json: &'a [u8]) -> Result<Frame<'a>, String> {
        let trimmed = json.trim_ascii();
        if !(trimmed.starts_with(b"{") && trimmed.ends_with(b"}")) {
            return Err(format!(
                "a frame that is not a JSON object: {:?}",
                String::from_utf8_lossy(&json[..json.len().min(80)])
            ));
        }
        let kind = string_after(json, b"\"type\":\"");
        Ok(match kind {
            Some("event") | None => Frame::Event(Event {
                id: string_after(json, b"\"id\":\""),
                stamp: stamp(json),
            }),
            Some("reset") => Frame::Reset(
                string_after(json, b"\"next\":\"").ok_or("a reset frame without `next`")?,
            ),
            Some("end") => Frame::End {
                reason: string_after(json, b"\"reason\":\"")
                    .ok_or("an end frame without `reason`")?,
                next: string_after(json, b"\"next\":\""),
            },
            Some(_) => Frame::Other,
        })
    }
}

/// `(seq, ts)` of the load publisher's data, wherever it is in `bytes`.
pub fn stamp(bytes: &[u8]) -> Option<(u64, u64)> {
    Some((
        number_after(bytes, b"\"seq\":")?,
        number_after(bytes, b"\"ts\":")?,
    ))
}

/// The answer of a poll, a long poll or a piggyback post of ours; each event is read with
/// [`Frame::parse`].
#[derive(Debug, Deserialize)]
pub struct Batch<'a> {
    #[serde(borrow)]
    pub events: Vec<&'a RawValue>,
    pub next: Option<String>,
    #[serde(default)]
    pub reset: bool,
}

impl<'a> Batch<'a> {
    pub fn parse(json: &'a [u8]) -> Result<Batch<'a>, String> {
        serde_json::from_slice(json).map_err(|e| format!("an answer that is not a batch: {e}"))
    }

    /// The events of the batch.
    pub fn events(&self) -> impl Iterator<Item = Result<Event<'a>, String>> + '_ {
        self.events
            .iter()
            .map(|&raw| match Frame::parse(raw.get().as_bytes())? {
                Frame::Event(event) => Ok(event),
                _ => Err("a batch holds something other than an event".to_owned()),
            })
    }
}

/// The whole number right after the first `key` in `bytes`.
pub fn number_after(bytes: &[u8], key: &[u8]) -> Option<u64> {
    let at = find(bytes, key)? + key.len();
    let digits = bytes[at..].iter().take_while(|b| b.is_ascii_digit());
    let mut value: u64 = 0;
    let mut any = false;
    for &d in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

/// The string right after the first `key` (which ends with the opening quote), up to the
/// closing quote.
pub fn string_after<'a>(bytes: &'a [u8], key: &[u8]) -> Option<&'a str> {
    let at = find(bytes, key)? + key.len();
    let len = bytes[at..].iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&bytes[at..at + len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_every_shape() {
        let iframe = br#"{"type":"event","event":{"id":"a-1","data":{"seq":1,"ts":1}}}"#;
        assert!(matches!(Frame::parse(iframe), Ok(Frame::Event(e)) if e.id == Some("a-1")));
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
        let nchan = br#"{"seq":7,"ts":1700000000000000000}"#;
        let event = Event {
            id: None,
            stamp: Some((7, 1_700_000_000_000_000_000)),
        };
        assert_eq!(Frame::parse(nchan), Ok(Frame::Event(event)));
    }

    #[test]
    fn a_batch_and_its_events() {
        let json =
            br#"{"events":[{"id":"a-1","data":{"seq":1,"ts":5}}],"next":"a-1","reset":false}"#;
        let batch = Batch::parse(json).unwrap();
        let events: Vec<_> = batch.events().collect();
        assert_eq!(batch.next.as_deref(), Some("a-1"));
        assert_eq!(
            events,
            [Ok(Event {
                id: Some("a-1"),
                stamp: Some((1, 5))
            })]
        );
        assert!(Batch::parse(b"[]").is_err());
    }

    #[test]
    fn numbers_and_strings_after_a_key() {
        assert_eq!(number_after(b"{\"seq\":42,", b"\"seq\":"), Some(42));
        assert_eq!(number_after(b"{\"seq\":x", b"\"seq\":"), None);
        assert_eq!(string_after(b"{\"id\":\"e-1\"}", b"\"id\":\""), Some("e-1"));
        assert_eq!(string_after(b"{\"id\":\"e-1", b"\"id\":\""), None);
    }
}
