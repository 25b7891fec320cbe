//! An event's data as it is stored: JSON text, checked once at publish and made compact.
//!
//! The hub never holds data as a parsed tree. A body is validated when it arrives, written
//! without insignificant white space (so it fits on one SSE `data:` line) and then kept as
//! text, exactly as the publisher wrote it otherwise: numbers keep every digit.

use serde_json::Value;
use serde_json::value::RawValue;

/// Compact, valid JSON text: the data of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    /// Checks `bytes` as one JSON value and drops the white space between its tokens.
    /// The error is serde_json's description of the first problem.
    pub fn from_json(bytes: &[u8]) -> Result<Payload, String> {
        let raw: &RawValue = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        Ok(Payload(compact(raw.get())))
    }

    /// A string value: `text` as a JSON string.
    pub fn text(text: &str) -> Payload {
        Payload(Value::from(text).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<Value> for Payload {
    fn from(value: Value) -> Payload {
        // `Value`'s own Display writes compact JSON and cannot fail.
        Payload(value.to_string())
    }
}

/// `json` (valid JSON) without the white space outside its strings.
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_and_made_compact() {
        let payload =
            Payload::from_json(b" { \"a\" : [1, 2],\n \"b\\\" c\" : \"x  y\\\\\" } ").unwrap();
        assert_eq!(payload.as_str(), r#"{"a":[1,2],"b\" c":"x  y\\"}"#);
        for bad in [&b""[..], b"{", b"[1,]", b"{} {}", b"nul", b"\xff"] {
            assert!(
                Payload::from_json(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn numbers_keep_every_digit() {
        let big = "123456789012345678901234567890.000000000000000000001";
        assert_eq!(Payload::from_json(big.as_bytes()).unwrap().as_str(), big);
    }

    #[test]
    fn text_becomes_a_json_string() {
        assert_eq!(Payload::text("say \"hi\"\n").as_str(), r#""say \"hi\"\n""#);
    }
}
