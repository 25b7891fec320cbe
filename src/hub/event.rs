//! The event envelope, its id and the channel name, with their validation.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A channel name: `[A-Za-z0-9_.-]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel(String);

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
        Ok(Channel(name.to_owned()))
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
    pub epoch: String,
    pub seq: u64,
}

impl EventId {
    pub fn new(epoch: &str, seq: u64) -> EventId {
        EventId {
            epoch: epoch.to_owned(),
            seq,
        }
    }
}

impl EventId {
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
            epoch: epoch.to_owned(),
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The envelope every transport carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: EventId,
    pub channel: Channel,
    pub data: Value,
    #[serde(serialize_with = "millis")]
    pub at: DateTime<Utc>,
}

fn millis<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
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
        let event = Event {
            id: EventId::new("e1", 3),
            channel: Channel::parse("demo").unwrap(),
            data: serde_json::json!({"x": 1}),
            at,
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"id":"e1-3","channel":"demo","data":{"x":1},"at":"2026-11-24T10:00:00.123Z"}"#
        );
    }
}
