//! The small values a stranger sends: channel names, cursors and `Last-Event-ID`, JSONP
//! callbacks, `Idempotency-Key`, tokens, postal codes and the piggyback form. Each is
//! refused with a one-line reason that does not repeat it, or becomes a value that keeps
//! the parser's rule.

use std::time::Duration;

use proptest::prelude::*;
use rocket::form::{Contextual, Form};
use rocket::http::RawStr;

use super::{config, one_line};
use crate::access::token::{ChannelClaims, Claims, Keys};
use crate::error::AppError;
use crate::hub::{Channel, EventId, IdempotencyKey};
use crate::postal::code::{Country, MAX_LEN, PostalCode};
use crate::transports::piggyback::Registration;
use crate::wire::jsonp::{self, Callback};
use crate::wire::{cursor, visitor};

/// Text of every kind: any Unicode, printable ASCII, and the characters names are made of.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        r"[ -~]{0,80}",
        r"[A-Za-z0-9_.$-]{0,70}",
        r"demo-[a-z0-9]{0,34}",
    ]
}

/// The message of a refusal, whatever its status.
fn message(error: &AppError) -> String {
    format!("{error:?}")
}

const SECRET: &str = "a secret of at least thirty-two bytes, for tests";

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn channel_names_are_refused_or_keep_the_rule(
        name in prop_oneof![text(), r"[A-Za-z0-9_.-]{1,64}", r"[A-Za-z0-9_.-]{60,70}"]
    ) {
        let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        let keeps_rule = (1..=Channel::MAX_LEN).contains(&name.len()) && name.chars().all(name_char);
        match Channel::parse(&name) {
            Ok(channel) => {
                prop_assert!(keeps_rule, "{:?}", name);
                prop_assert_eq!(channel.as_str(), name.as_str());
            }
            Err(reason) => {
                prop_assert!(!keeps_rule, "{:?}", name);
                prop_assert!(one_line(&reason));
            }
        }
        if visitor::is_visitor(&name) {
            prop_assert!(keeps_rule, "a page channel is a channel: {:?}", name);
        }
    }

    #[test]
    fn cursors_and_last_event_ids_are_refused_or_round_trip(
        text in prop_oneof![
            text(),
            r"[a-z0-9]{0,34}-[0-9]{0,22}",
            r"\s?[a-zA-Z0-9]{1,8}-[0-9]{1,20}\s?",
            r"[a-z0-9]{1,8}-1844674407370955[0-9]{4}",
        ]
    ) {
        // `?since=`, `?last_event_id=` and the `Last-Event-ID` header all go through `cursor`.
        match cursor(Some(&text)) {
            Ok(None) => prop_assert!(text.trim().is_empty()),
            Ok(Some(id)) => {
                let again: Result<EventId, String> = id.to_string().parse();
                prop_assert_eq!(again, Ok(id));
            }
            Err(error) => {
                prop_assert!(matches!(&error, AppError::BadRequest(m) if one_line(m)), "{:?}", error);
                if text.trim().len() > 12 {
                    prop_assert!(!message(&error).contains(text.trim()), "echoes {:?}", text);
                }
            }
        }
    }

    #[test]
    fn jsonp_callbacks_are_refused_without_echo_or_start_a_harmless_script(
        name in prop_oneof![text(), r"[A-Za-z_$][A-Za-z0-9_$]{0,20}(\.[A-Za-z_$][A-Za-z0-9_$]{0,20}){0,3}"]
    ) {
        match Callback::parse(&name) {
            Ok(callback) => {
                let js_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.');
                prop_assert!(name.len() <= Callback::MAX_LEN && name.chars().all(js_char));
                let body = jsonp::body(&callback, &serde_json::json!({"a": "</script>"}));
                prop_assert_eq!(body, format!("/**/{name}({{\"a\":\"\\u003c/script\\u003e\"}});"));
            }
            Err(error) => {
                let refusal = Callback::parse("").map(|_| ()).map_err(|e| message(&e));
                prop_assert_eq!(Err(message(&error)), refusal, "the same words for every refusal");
            }
        }
    }

    #[test]
    fn idempotency_keys_are_refused_without_echo_or_kept_as_sent(
        key in prop_oneof![text(), r"[!-~]{1,64}", r"[!-~]{60,70}"]
    ) {
        let ttl = Duration::from_secs(60);
        let keeps_rule = (1..=IdempotencyKey::MAX_LEN).contains(&key.len())
            && key.bytes().all(|b| b.is_ascii_graphic());
        match IdempotencyKey::parse(&key, ttl) {
            Ok(parsed) => {
                prop_assert!(keeps_rule);
                prop_assert_eq!(parsed.as_str(), key.as_str());
            }
            Err(reason) => {
                prop_assert!(!keeps_rule);
                prop_assert_eq!(Err(reason), IdempotencyKey::parse("", ttl).map(|_| ()));
            }
        }
    }

    #[test]
    fn tokens_are_refused_in_one_line_without_echo_unless_signed_by_the_secret(
        token in prop_oneof![
            text(),
            r"[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,43}",
            r"eyJ[A-Za-z0-9_-]{0,40}\.eyJ[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{43}",
        ],
        change in any::<Option<(prop::sample::Index, u8)>>(),
        channels in prop::collection::vec(text(), 0..3),
    ) {
        let keys = Keys::new(SECRET).map_err(TestCaseError::fail)?;
        // A real token, with one byte changed when `change` says so, or generated text.
        let claims = Claims {
            exp: 4_000_000_000,
            sub: None,
            channels: ChannelClaims { publish: channels.clone(), subscribe: channels },
        };
        let signed = keys.issue(&claims).map_err(TestCaseError::fail)?;
        let (token, genuine) = match change {
            Some((at, byte)) if byte.is_ascii() => {
                let mut bytes = signed.clone().into_bytes();
                let at = at.index(bytes.len());
                bytes[at] = byte;
                let token = String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let same = token == signed;
                (token, same)
            }
            Some(_) => (token, false),
            None => (signed, true),
        };
        match keys.verify(&token) {
            Ok(_) => prop_assert!(genuine, "a token not signed as it is verified: {}", token),
            Err(reason) => {
                prop_assert!(one_line(&reason), "{:?}", reason);
                if token.len() > 12 {
                    prop_assert!(!reason.contains(&token), "echoes the token");
                }
            }
        }
    }

    #[test]
    fn postal_codes_and_countries_are_refused_with_a_fixed_message_or_normalised(
        code in prop_oneof![text(), r"\s{0,2}[A-Za-z0-9 -]{1,24}\s{0,2}"],
        country in prop_oneof![text(), r"[A-Za-z]{2}"],
    ) {
        match PostalCode::parse(&code) {
            Ok(parsed) => {
                let normal = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-';
                prop_assert!(!parsed.as_str().is_empty() && parsed.as_str().chars().count() <= MAX_LEN);
                prop_assert!(parsed.as_str().chars().all(normal), "{:?}", parsed);
            }
            Err(invalid) => prop_assert!(one_line(invalid.message())),
        }
        match Country::parse(&country) {
            Ok(parsed) => prop_assert!(parsed.as_str().len() == 2 && parsed.as_str().chars().all(|c| c.is_ascii_alphabetic())),
            Err(invalid) => prop_assert!(one_line(invalid.message())),
        }
    }

    #[test]
    fn piggyback_forms_name_each_wrong_field_or_are_valid(
        fields in prop::collection::vec(
            (prop_oneof![
                Just("name"), Just("email"), Just("seats"), Just("country"),
                Just("postal_code"), Just("since"), Just("other"),
            ], text()),
            0..8,
        ),
        raw in text(),
    ) {
        let encoded: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{name}={}", RawStr::new(value).percent_encode()))
            .collect();
        for body in [encoded.join("&"), raw] {
            let form = Form::<Contextual<'_, Registration<'_>>>::parse(&body);
            let Ok(form) = form else { continue };
            for error in form.context.errors() {
                let reason = error.kind.to_string();
                prop_assert!(one_line(&reason), "{:?}", reason);
            }
            if form.value.is_some() {
                prop_assert_eq!(form.context.errors().count(), 0);
            }
            // A cursor that is not one is a 400, never a panic.
            let since = cursor(form.context.field_value("since"));
            prop_assert!(since.is_ok() || matches!(since, Err(AppError::BadRequest(_))));
        }
    }
}
