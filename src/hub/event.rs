//! The event envelope, its id and the channel name, with their validation.

use std::fmt::{self, Write};
use std::ops::Range;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::Payload;

/// A channel name: `[A-Za-z0-9_.-]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel(Arc<str>);

impl Channel {
    pub const MAX_LEN: usize = 64;

    /// Checks a name against the channel rule; the error says what is wrong.
    pub fn parse(name: &str) -> Result<Channel, String> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if name.is_empty() || name.len() > Self::MAX_LEN || !name.chars().all(ok_char) {
            return Err(format!(
                "a channel name is 1 to {} characters from A-Z, a-z, 0-9, '_', '.' and '-'",
                Self::MAX_LEN
            ));
        }
        Ok(Channel(Arc::from(name)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An event id, `<epoch>-<seq>`: the epoch names one history of a channel, the sequence
/// number counts its events from 1 with no gaps. Clients treat it as an opaque string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventId {
    pub epoch: Arc<str>,
    pub seq: u64,
}

impl EventId {
    pub fn new(epoch: &str, seq: u64) -> EventId {
        EventId {
            epoch: Arc::from(epoch),
            seq,
        }
    }

    /// An id on a shared epoch, without copying the epoch's text.
    pub fn on(epoch: &Arc<str>, seq: u64) -> EventId {
        EventId {
            epoch: Arc::clone(epoch),
            seq,
        }
    }

    /// A fresh epoch: a short random token that names one history of a channel. Both
    /// backends use it; it is alphanumeric, so it never contains the id's `-` separator.
    pub fn new_epoch() -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::thread_rng();
        (0..8)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.epoch, self.seq)
    }
}

impl FromStr for EventId {
    type Err = String;

    fn from_str(s: &str) -> Result<EventId, String> {
        let bad = || "an event id looks like `<epoch>-<seq>`, for example `k3x9q2-17`".to_owned();
        let (epoch, seq) = s.rsplit_once('-').ok_or_else(bad)?;
        let epoch_ok = !epoch.is_empty()
            && epoch.len() <= 32
            && epoch.chars().all(|c| c.is_ascii_alphanumeric());
        let digits_ok =
            !seq.is_empty() && seq.len() <= 20 && seq.bytes().all(|b| b.is_ascii_digit());
        if !epoch_ok || !digits_ok {
            return Err(bad());
        }
        Ok(EventId {
            epoch: Arc::from(epoch),
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One stored event: its envelope serialized once, as compact JSON, and shared by every
/// transport and subscriber.
///
/// The envelope is `{"id":"<epoch>-<seq>","channel":"<ch>","data":<data>,"at":"<time>"}`;
/// the id and the data are slices of it, so an SSE frame, a poll answer or a WebSocket
/// message is written from this one buffer. A transport that needs the envelope escaped for
/// its context asks [`Event::form`], which builds that form at most once per event and shares
/// the envelope itself when no character needs escaping.
pub struct Event {
    pub id: EventId,
    pub channel: Channel,
    pub at: DateTime<Utc>,
    born: Instant,
    json: Box<str>,
    data: Range<usize>,
    forms: [OnceLock<Option<Box<str>>>; 2],
}

/// The escaped forms of an envelope a transport may ask for (see [`Event::form`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Safe inside a `<script>` element or an HTML page.
    ScriptSafe,
    /// Safe inside a multipart part: never contains a delimiter.
    PartSafe,
}

/// What an event costs besides its envelope: the struct, its allocations' headers and its
/// place in the history.
const OVERHEAD: usize = std::mem::size_of::<Event>() + 64;

/// The `{"id":"` that opens every envelope, before the id text.
const ID_AT: usize = 7;

impl Event {
    /// Builds the envelope of event `id` on `channel` carrying `data` (compact JSON).
    pub fn new(id: EventId, channel: Channel, data: &Payload, at: DateTime<Utc>) -> Event {
        let data = data.as_str();
        let at_text = at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut json = String::with_capacity(64 + channel.as_str().len() + data.len());
        json.push_str("{\"id\":\"");
        // Ids and channel names are alphanumerics, '-', '_' and '.': nothing to escape.
        write!(json, "{id}").unwrap_or_else(|_| unreachable!("writing to a String"));
        json.push_str("\",\"channel\":\"");
        json.push_str(channel.as_str());
        json.push_str("\",\"data\":");
        let start = json.len();
        json.push_str(data);
        let end = json.len();
        json.push_str(",\"at\":\"");
        json.push_str(&at_text);
        json.push_str("\"}");
        Event {
            id,
            channel,
            at,
            born: Instant::now(),
            json: json.into_boxed_str(),
            data: start..end,
            forms: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The envelope, compact JSON.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The id as text, a slice of the envelope.
    pub fn id_str(&self) -> &str {
        let len = self.json[ID_AT..].find('"').unwrap_or(0);
        &self.json[ID_AT..ID_AT + len]
    }

    /// The data, as the compact JSON text it was published as.
    pub fn data_json(&self) -> &str {
        &self.json[self.data.clone()]
    }

    /// The data, parsed (for pages and tests; transports never need it). `None` when the
    /// stored text is JSON a `Value` cannot hold (stored before the publish rule, or written
    /// to Redis by hand): a reader then shows [`Event::data_json`] as it is.
    pub fn data(&self) -> Option<Value> {
        serde_json::from_str(self.data_json()).ok()
    }

    /// The envelope in the escaped form `form`, built by `escape` the first time it is
    /// asked for and shared from then on. `escape` returns `None` when the envelope needs
    /// no change, and the envelope itself is shared.
    pub fn form(&self, form: Form, escape: impl FnOnce(&str) -> Option<String>) -> &str {
        self.forms[form as usize]
            .get_or_init(|| escape(&self.json).map(String::into_boxed_str))
            .as_deref()
            .unwrap_or(&self.json)
    }

    /// When the event was stored, for the history's age limit.
    pub fn born(&self) -> Instant {
        self.born
    }

    /// The bytes this event holds, for the history's byte limits.
    pub fn size(&self) -> usize {
        self.json.len() + OVERHEAD
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.json == other.json
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_follow_the_rule() {
        assert!(Channel::parse("demo").is_ok());
        assert!(Channel::parse("a.b-c_D9").is_ok());
        assert!(Channel::parse(&"x".repeat(64)).is_ok());
        for bad in ["", "a b", "a/b", "é", "<script>", &"x".repeat(65)] {
            assert!(Channel::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn event_ids_round_trip_and_refuse_garbage() {
        let id: EventId = "k3x9q2-17".parse().unwrap();
        assert_eq!(id, EventId::new("k3x9q2", 17));
        assert_eq!(id.to_string(), "k3x9q2-17");
        for bad in [
            "",
            "17",
            "-17",
            "abc-",
            "a-b-c",
            "ab-1x",
            "a_b-1",
            "a-99999999999999999999999",
        ] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn the_envelope_serialises_as_designed() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T10:00:00.123Z")
            .unwrap()
            .to_utc();
        let event = Event::new(
            EventId::new("e1", 3),
            Channel::parse("demo").unwrap(),
            &serde_json::json!({"x": 1}).into(),
            at,
        );
        assert_eq!(
            event.json(),
            r#"{"id":"e1-3","channel":"demo","data":{"x":1},"at":"2026-11-24T10:00:00.123Z"}"#
        );
        assert_eq!(event.id_str(), "e1-3");
        assert_eq!(event.data_json(), r#"{"x":1}"#);
        assert_eq!(event.data(), Some(serde_json::json!({"x": 1})));
    }

    #[test]
    fn an_escaped_form_is_built_once_and_only_when_needed() {
        let channel = Channel::parse("demo").unwrap();
        let plain = Event::new(
            EventId::new("e1", 1),
            channel.clone(),
            &Payload::text("hi"),
            Utc::now(),
        );
        let mut calls = 0;
        let form = plain.form(Form::ScriptSafe, |_| {
            calls += 1;
            None
        });
        assert!(
            std::ptr::eq(form, plain.json()),
            "no copy when nothing needs escaping"
        );
        let again = plain.form(Form::ScriptSafe, |_| unreachable!("built once"));
        assert!(std::ptr::eq(again, plain.json()));
        assert_eq!(calls, 1);

        let tagged = Event::new(
            EventId::new("e1", 2),
            channel,
            &Payload::text("<b>"),
            Utc::now(),
        );
        let form = tagged.form(Form::ScriptSafe, |json| Some(json.replace('<', "\\u003c")));
        assert!(form.contains("\\u003cb>"));
        assert!(tagged.json().contains("<b>"));
    }
}
