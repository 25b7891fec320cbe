//! An event's data as it is stored: JSON text, checked once at publish and made compact.
//!
//! The hub never holds data as a parsed tree. A body is validated when it arrives, written
//! without insignificant white space (so it fits on one SSE `data:` line) and then kept as
//! text, exactly as the publisher wrote it otherwise: numbers keep every digit.
//!
//! What publish accepts is one rule, [`Payload::from_json`]: the body is one JSON value that
//! every reader can load, inside every answer that wraps it. Arrays and objects nest at most
//! [`Payload::MAX_DEPTH`] deep, every number fits a finite double, and every string is valid
//! Unicode (no lone surrogate escape such as `"\ud800"`), which is what `serde_json::Value`
//! (the pages' parser, and many clients') loads.
//!
//! Data that breaks the rule and is stored all the same (by an older version, or written to
//! Redis by hand) is still text a page can show: [`Payload::stored`] takes it, and readers
//! treat [`crate::hub::Event::data`] as fallible.

use serde_json::Value;
use serde_json::value::RawValue;

/// Compact, valid JSON text: the data of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    /// How deep arrays and objects may nest in an event's data. serde_json loads at most 127
    /// levels, and the answers that carry an event wrap its data in up to three more
    /// (`{"events":[{"data":…}]}`); 100 leaves room for those.
    pub const MAX_DEPTH: usize = 100;

    /// Checks `bytes` against the publish rule and drops the white space between its tokens.
    /// The error is one line that names what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Payload, String> {
        let (payload, depth) = Payload::checked_syntax(bytes)?;
        if depth > Payload::MAX_DEPTH {
            return Err(format!(
                "{BROKEN}: arrays and objects nest at most {} deep (this body: {depth})",
                Payload::MAX_DEPTH
            ));
        }
        if let Err(e) = serde_json::from_str::<Value>(payload.as_str()) {
            return Err(refusal(&e));
        }
        Ok(payload)
    }

    /// Takes JSON text already stored: checked as JSON syntax only (so it can be framed),
    /// not against the publish rule. For reading back what a backend holds, and for tests
    /// that store what an older version could have stored.
    pub fn stored(json: &str) -> Result<Payload, String> {
        Payload::checked_syntax(json.as_bytes()).map(|(payload, _)| payload)
    }

    /// The compact text of `bytes` if they are one JSON value, with how deep it nests.
    fn checked_syntax(bytes: &[u8]) -> Result<(Payload, usize), String> {
        let raw: &RawValue = serde_json::from_slice(bytes)
            .map_err(|e| format!("the body is not valid JSON: {e}"))?;
        let (text, depth) = compact(raw.get());
        Ok((Payload(text), depth))
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

/// The one-line message for a body that is JSON but that `Value` does not load. serde_json
/// names the problem in its message ("number out of range at line 1 column 6"); the refusal
/// says which part of the rule that is.
fn refusal(error: &serde_json::Error) -> String {
    let detail = error.to_string();
    let rule = if detail.starts_with("number out of range") {
        "every number must fit a finite double (at most about 1.8e308)"
    } else if detail.contains("surrogate")
        || detail.contains("hex escape")
        || detail.contains("unicode code point")
    {
        "strings must be valid Unicode, with no lone surrogate escape such as \\ud800"
    } else {
        "the value must load as JSON in every reader"
    };
    format!("{BROKEN}: {rule} ({detail})")
}

/// How every refusal of JSON that is well formed starts.
const BROKEN: &str = "the body is JSON but breaks the publish rule";

/// `json` (valid JSON) without the white space outside its strings, and how deep its arrays
/// and objects nest.
fn compact(json: &str) -> (String, usize) {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    let (mut depth, mut deepest) = (0usize, 0usize);
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
            match c {
                '"' => in_string = true,
                '[' | '{' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            out.push(c);
        }
    }
    (out, deepest)
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

    /// Arrays nested `depth` deep around `inner`.
    fn nested(depth: usize, inner: &str) -> String {
        format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn json_a_reader_cannot_load_is_refused_with_the_rule_it_breaks() {
        let deep = nested(Payload::MAX_DEPTH + 1, "");
        let deep_object = format!(
            "{}1{}",
            "{\"a\":".repeat(Payload::MAX_DEPTH + 1),
            "}".repeat(Payload::MAX_DEPTH + 1)
        );
        let cases = [
            (deep.as_str(), "nest at most 100 deep (this body: 101)"),
            (deep_object.as_str(), "nest at most 100 deep"),
            ("1e999", "finite double"),
            ("[-1.5e400]", "finite double"),
            ("{\"n\":123e308}", "finite double"),
            (r#""\ud800""#, "lone surrogate"),
            (r#""\udc00""#, "lone surrogate"),
            (r#"["a\ud800b"]"#, "lone surrogate"),
            (r#""\ud800\u0041""#, "lone surrogate"),
            (r#"{"\udbff":1}"#, "lone surrogate"),
        ];
        for (body, rule) in cases {
            let error = Payload::from_json(body.as_bytes()).expect_err(body);
            assert!(error.contains(rule), "{body}: {error}");
            assert!(error.starts_with("the body is JSON but breaks the publish rule"));
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn json_at_the_edges_of_the_rule_is_accepted() {
        let deep = nested(Payload::MAX_DEPTH, "1");
        for body in [
            deep.as_str(),
            "1.7976931348623157e308",
            "-1.7976931348623157e308",
            "1e-999",
            r#""\ud83d\ude00""#,
            r#""\u0000""#,
            "123456789012345678901234567890",
        ] {
            let payload = Payload::from_json(body.as_bytes()).expect(body);
            assert_eq!(payload.as_str(), body, "kept as written");
        }
    }

    #[test]
    fn stored_data_is_checked_for_syntax_only() {
        for body in ["1e999", r#""\ud800""#, &nested(Payload::MAX_DEPTH + 1, "")] {
            assert_eq!(Payload::stored(body).expect(body).as_str(), body);
        }
        assert!(Payload::stored("{").is_err());
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
