//! JSONP framing, shared by JSONP polling, script-tag long polling and the postal-code API.
//!
//! A JSONP answer is a script, so everything here is about keeping it a harmless one: the
//! callback name is checked against a strict pattern and never echoed when it fails, and the
//! JSON inside is escaped so that no payload can close the script or start a comment.

use rocket::http::ContentType;
use serde::Serialize;

use super::NoStore;
use crate::error::AppError;
use crate::hub::{Batch, Event, Form};

/// A callback name that is a dotted path of JavaScript identifiers, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback(String);

impl Callback {
    pub const MAX_LEN: usize = 64;

    /// Accepts `^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`, at most 64 bytes.
    /// The error message never contains the refused value.
    pub fn parse(name: &str) -> Result<Callback, AppError> {
        let start = |c: char| c.is_ascii_alphabetic() || c == '_' || c == '$';
        let rest = |c: char| start(c) || c.is_ascii_digit();
        let part_ok = |part: &str| {
            let mut chars = part.chars();
            chars.next().is_some_and(start) && chars.all(rest)
        };
        if name.is_empty() || name.len() > Self::MAX_LEN || !name.split('.').all(part_ok) {
            return Err(AppError::bad_request(
                "callback must be a JavaScript name such as `handle` or `app.onEvents` \
                 (letters, digits, `_`, `$`, dots between names; at most 64 bytes)",
            ));
        }
        Ok(Callback(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Serialises `value` as JSON that is safe inside a `<script>` element or an HTML page (see
/// [`escape_script`]).
pub fn script_safe_json<T: Serialize + ?Sized>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
    escape_script(&json).unwrap_or(json)
}

/// JSON text made safe inside a `<script>` element or an HTML page: `<`, `>`, `&`, U+2028
/// and U+2029 become `\u` escapes. These characters can only occur inside JSON strings,
/// where the escapes mean exactly the same thing. `None` when nothing needs escaping.
pub fn escape_script(json: &str) -> Option<String> {
    let unsafe_char = |c: char| matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}');
    if !json.contains(unsafe_char) {
        return None;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Some(out)
}

/// An event's envelope, safe in a script: built once per event and shared.
pub fn script_safe(event: &Event) -> &str {
    event.form(Form::ScriptSafe, escape_script)
}

/// The body of a JSONP answer: `/**/callback(json);`. The leading comment defuses the
/// content-sniffing attacks that abuse a body starting with the callback name.
pub fn body<T: Serialize + ?Sized>(callback: &Callback, value: &T) -> String {
    format!("/**/{}({});", callback.as_str(), script_safe_json(value))
}

/// A batch as a JSONP body, `/**/callback({"events":[…],…});`, from the events' stored
/// script-safe envelopes.
pub fn batch_body(callback: &Callback, batch: &Batch) -> String {
    let size: usize = batch.events.iter().map(|e| e.json().len() + 1).sum();
    let mut out = String::with_capacity(size + 96);
    out.push_str("/**/");
    out.push_str(callback.as_str());
    out.push_str("({");
    batch.write_fields(&mut out, script_safe);
    out.push_str("});");
    out
}

/// `text/javascript; charset=utf-8`, the content type of every JSONP answer.
pub fn script_type() -> ContentType {
    ContentType::new("text", "javascript").with_params(("charset", "utf-8"))
}

/// A complete JSONP answer with its content type and `no-store` (Shield adds `nosniff`).
pub fn respond<T: Serialize + ?Sized>(
    callback: &Callback,
    value: &T,
) -> NoStore<(ContentType, String)> {
    NoStore::new((script_type(), body(callback, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_accept_identifier_paths_only() {
        for good in ["cb", "_x", "$", "a.b.c", "jQuery123_456", &"a".repeat(64)] {
            assert!(Callback::parse(good).is_ok(), "{good:?} should be accepted");
        }
        let long = "a".repeat(65);
        for bad in [
            "",
            "alert(1)//",
            "a b",
            "<script>",
            "1a",
            "a..b",
            ".a",
            "a.",
            "a-b",
            &long,
        ] {
            assert!(Callback::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn refused_callbacks_are_not_echoed() {
        let Err(error) = Callback::parse("evil<script>") else {
            panic!("accepted")
        };
        assert!(!error.message().contains("evil"));
    }

    #[test]
    fn script_safe_json_escapes_breakouts() {
        let json = script_safe_json(&"</script><!-- & \u{2028}\u{2029}");
        assert_eq!(
            json,
            r#""\u003c/script\u003e\u003c!-- \u0026 \u2028\u2029""#
        );
        let back: String = serde_json::from_str(&json).unwrap();
        assert_eq!(back, "</script><!-- & \u{2028}\u{2029}");
    }

    #[test]
    fn bodies_start_with_a_comment() {
        let cb = Callback::parse("app.on").unwrap();
        assert_eq!(
            body(&cb, &serde_json::json!({"a": 1})),
            r#"/**/app.on({"a":1});"#
        );
    }
}
