//! Publish bodies and WebSocket text. What publish accepts loads in every reader and every
//! transport's framing carries it whole and escaped; what it refuses gets a one-line reason.
//! Data stored past the rule (by an older version, or by hand) is still framed safely.

use std::sync::Arc;

use chrono::Utc;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use serde_json::value::RawValue;

use super::{config, one_line};
use crate::hub::{Batch, Channel, Event, EventId, Payload};
use crate::transports::forever_iframe::Iframe;
use crate::transports::multipart_streaming::Multipart;
use crate::transports::server_sent_events::Sse;
use crate::transports::stream::Framing;
use crate::wire::jsonp::{self, Callback};

/// Pieces of string content that matter to some reader: markup, the multipart boundary's
/// prefix, escapes (surrogates among them), line breaks and anything at all.
fn string_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("</script>".to_owned()),
        Just("</SCRIPT ".to_owned()),
        Just("<!--".to_owned()),
        Just("-->".to_owned()),
        Just("]]>".to_owned()),
        Just("rajax".to_owned()),
        Just(r"\rajax".to_owned()),
        Just(r"\\rajax".to_owned()),
        Just("&amp;".to_owned()),
        Just("\u{2028}\u{2029}".to_owned()),
        Just(r#"\n\r\"\/"#.to_owned()),
        r"\\u[dD][89abAB][0-9a-fA-F]{2}",
        r"\\u[0-9a-fA-F]{4}",
        r#"[^"\\\x00-\x1f]{0,8}"#,
        any::<char>().prop_map(String::from),
    ]
}

fn json_string() -> impl Strategy<Value = String> {
    prop::collection::vec(string_piece(), 0..5).prop_map(|p| format!("\"{}\"", p.concat()))
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?",
        any::<f64>().prop_map(|f| f.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

/// JSON text with white space between its tokens, most of it well formed.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        number(),
        json_string(),
        Just("true".to_owned()),
        Just("null".to_owned()),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5)
                .prop_map(|items| format!("[ {} ]", items.join(",\n"))),
            prop::collection::vec((json_string(), inner), 0..5).prop_map(|pairs| {
                let members: Vec<String> =
                    pairs.iter().map(|(k, v)| format!("{k} : {v}")).collect();
                format!("{{\t{}}}", members.join(" ,"))
            }),
        ]
    })
}

/// A publish body: JSON text, sometimes wrapped in arrays around the depth limit, sometimes
/// with one byte changed, or bytes at random.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let depth = prop_oneof![Just(0usize), 0..140usize];
    prop_oneof![
        6 => (json_text(), depth).prop_map(|(json, depth)| {
            format!("{}{json}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }),
        2 => (json_text(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(json, at, byte)| {
            let mut bytes = json.into_bytes();
            let at = at.index(bytes.len());
            bytes[at] = byte;
            bytes
        }),
        1 => prop::collection::vec(any::<u8>(), 0..48),
        1 => any::<String>().prop_map(String::into_bytes),
    ]
}

/// Checks `json` (one framing's copy of the envelope or batch) at `pointer`: the value
/// `meant` when the data loads, otherwise JSON syntax a browser's `JSON.parse` takes.
fn carries(json: &str, pointer: &str, meant: Option<&Value>) -> Result<(), TestCaseError> {
    match meant {
        Some(meant) => {
            let value: Value = serde_json::from_str(json)
                .map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
            prop_assert_eq!(value.pointer(pointer), Some(meant), "{}", json);
        }
        None => {
            let raw = serde_json::from_str::<&RawValue>(json);
            prop_assert!(raw.is_ok(), "not JSON: {}", json);
        }
    }
    Ok(())
}

/// No character that could end a script element, open a comment or end a line in a script.
fn script_safe(text: &str) -> bool {
    !text.contains(['<', '>', '&', '\u{2028}', '\u{2029}'])
}

/// Builds the event of `payload` and writes it through every transport's framing.
fn frames_everywhere(payload: &Payload, meant: Option<&Value>) -> Result<(), TestCaseError> {
    let channel = Channel::parse("demo").map_err(TestCaseError::fail)?;
    let event = Arc::new(Event::new(
        EventId::new("e1", 7),
        channel,
        payload,
        Utc::now(),
    ));
    // The pages' parser: a value, or `None` and the text as it is; never a panic.
    let data = event.data();
    if meant.is_some() {
        prop_assert_eq!(data.as_ref(), meant);
    }
    let envelope = event.json();
    prop_assert!(!envelope.contains(['\n', '\r']), "one line: {}", envelope);

    // Server-Sent Events: one id line and one data line.
    let mut out = Vec::new();
    Sse::new(2000).event(&event, &mut out);
    let sse = String::from_utf8(out).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(sse, format!("id: e1-7\ndata: {envelope}\n\n"));
    carries(envelope, "/data", meant)?;

    // Multipart: the part never contains the boundary's prefix.
    let mut out = Vec::new();
    Multipart::new().event(&event, &mut out);
    let text = String::from_utf8(out).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let part = text
        .split_once("\r\n\r\n")
        .and_then(|(_, part)| part.strip_suffix("\r\n"))
        .unwrap_or_default();
    prop_assert!(!part.contains("rajax"), "{}", part);
    carries(part, "/data", meant)?;

    // The forever iframe: the argument of one script call, with nothing to break out.
    let mut out = Vec::new();
    Iframe::new(1 << 20, "n0nce").event(&event, &mut out);
    let text = String::from_utf8(out).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let argument = text
        .strip_prefix("<script nonce=\"n0nce\">parent.foreverIframe(")
        .and_then(|rest| rest.strip_suffix(");</script>\n"))
        .unwrap_or_default();
    prop_assert!(script_safe(argument), "{}", argument);
    carries(argument, "/event/data", meant)?;

    // JSONP polling and script long polling: one call of the callback.
    let batch = Batch {
        events: vec![Arc::clone(&event)],
        next: event.id.clone(),
        reset: None,
    };
    let callback = Callback::parse("cb").map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let script = jsonp::batch_body(&callback, &batch);
    let argument = script
        .strip_prefix("/**/cb(")
        .and_then(|rest| rest.strip_suffix(");"))
        .unwrap_or_default();
    prop_assert!(script_safe(argument), "{}", argument);
    carries(argument, "/events/0/data", meant)?;

    // Polling, long polling and piggyback answers, and WebSocket messages: the envelope.
    carries(&batch.to_json(), "/events/0/data", meant)
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn a_publish_body_is_refused_in_one_line_or_loads_and_frames_everywhere(body in body()) {
        match Payload::from_json(&body) {
            Err(reason) => prop_assert!(one_line(&reason), "{:?}", reason),
            Ok(payload) => {
                let meant: Value = serde_json::from_slice(&body)
                    .map_err(|e| TestCaseError::fail(format!("accepted, yet {e}")))?;
                frames_everywhere(&payload, Some(&meant))?;
            }
        }
    }

    #[test]
    fn stored_data_past_the_rule_is_still_framed_safely(body in body()) {
        if let Ok(payload) = std::str::from_utf8(&body).map_err(|e| e.to_string()).and_then(Payload::stored) {
            frames_everywhere(&payload, None)?;
        }
    }

    #[test]
    fn websocket_text_becomes_a_string_every_reader_loads(
        text in prop_oneof![any::<String>(), prop::collection::vec(string_piece(), 0..6).prop_map(|p| p.concat())]
    ) {
        let payload = Payload::text(&text);
        prop_assert_eq!(Payload::from_json(payload.as_str().as_bytes()), Ok(payload.clone()));
        frames_everywhere(&payload, Some(&Value::String(text)))?;
    }
}

/// Found by the first property above: data nested 127 deep, which serde_json still loads on
/// its own, made every answer that wraps it (a poll's `{"events":[{"data":…}]}`) fail to load.
/// The publish rule now stops at `Payload::MAX_DEPTH`, which leaves room for the wrapping.
#[test]
fn data_at_the_depth_limit_loads_inside_every_answer() {
    let depth = Payload::MAX_DEPTH;
    let deepest = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let payload = Payload::from_json(deepest.as_bytes()).expect("at the limit");
    let meant: Value = serde_json::from_str(&deepest).expect("a value");
    frames_everywhere(&payload, Some(&meant)).expect("every answer loads");
    let over = format!("[{deepest}]");
    assert!(Payload::from_json(over.as_bytes()).is_err());
}
