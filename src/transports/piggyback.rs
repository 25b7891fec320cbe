//! Piggyback polling, mounted at `POST /piggyback`.
//!
//! The page never asks for events on its own. Events ride along on the answer to a request the
//! user makes anyway: here, registering for a talk. One JSON answer carries the form's
//! validation result and every event after the client's cursor.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use rocket::form::{Form, FromForm};
use rocket::http::ContentType;
use rocket::{Route, State};
use serde::Serialize;

use crate::access::{Reader, SameSite};
use crate::error::AppError;
use crate::hub::{Batch, Event, Hub};
use crate::wire::{NoStore, cursor};

/// The registration form, as sent. Every field is optional here so that a missing one is
/// reported next to its input instead of failing the whole request.
#[derive(Debug, Default, FromForm)]
pub struct Registration<'r> {
    name: Option<&'r str>,
    email: Option<&'r str>,
    seats: Option<&'r str>,
    country: Option<&'r str>,
    postal_code: Option<&'r str>,
    since: Option<&'r str>,
}

/// The form half of the answer.
#[derive(Debug, Serialize)]
pub struct FormResult {
    pub valid: bool,
    pub errors: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The whole answer: `{"form":…,"events":[…],"next":…,"reset":…}`, the form result plus
/// the pending events (copied from their stored envelopes).
fn answer(form: &FormResult, batch: &Batch) -> String {
    // A map of strings and a bool: serialising it cannot fail.
    let form = serde_json::to_string(form).unwrap_or_else(|_| unreachable!("plain data"));
    let mut out = String::with_capacity(form.len() + 64);
    out.push_str("{\"form\":");
    out.push_str(&form);
    out.push(',');
    batch.write_fields(&mut out, Event::json);
    out.push('}');
    out
}

/// Counts accepted registrations, so each one gets a confirmation number.
#[derive(Debug, Default)]
pub struct Registrations(AtomicU64);

/// Validates the registration and answers it together with every event after `since` on
/// the reader's channel (`?channel=`, `demo` by default). Only this site's pages may post it.
#[post("/piggyback", data = "<form>")]
pub async fn register(
    _site: SameSite,
    mut reader: Reader,
    form: Form<Registration<'_>>,
    hub: &State<Hub>,
    registrations: &State<Registrations>,
) -> Result<NoStore<(ContentType, String)>, AppError> {
    let since = cursor(form.since)?;
    let errors = validate(&form);
    let message = errors.is_empty().then(|| {
        let number = registrations.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("Registration #{number} confirmed.")
    });
    let form = FormResult {
        valid: errors.is_empty(),
        errors,
        message,
    };
    let batch = hub.read(&reader.channel, since.as_ref()).await?;
    let body = answer(&form, &batch);
    reader.meter.answer(&batch.events, batch.reset, body.len());
    Ok(NoStore::new((ContentType::JSON, body)))
}

/// Checks every field and returns one message per field that is wrong.
pub fn validate(form: &Registration<'_>) -> BTreeMap<&'static str, String> {
    let mut errors = BTreeMap::new();
    let field = |v: Option<&str>| v.map(str::trim).unwrap_or_default().to_owned();
    let name = field(form.name);
    if name.is_empty() {
        errors.insert("name", "Please give your name.".to_owned());
    } else if name.chars().count() > 80 {
        errors.insert("name", "A name is at most 80 characters.".to_owned());
    }
    if !email_ok(&field(form.email)) {
        errors.insert(
            "email",
            "Please give an e-mail address such as ada@example.org.".to_owned(),
        );
    }
    if !field(form.seats)
        .parse::<u8>()
        .is_ok_and(|n| (1..=10).contains(&n))
    {
        errors.insert("seats", "Choose between 1 and 10 seats.".to_owned());
    }
    let country = field(form.country).to_ascii_uppercase();
    match postal_shapes(&country) {
        None => {
            errors.insert("country", "Choose a country from the list.".to_owned());
        }
        Some(shapes) if !fits(&field(form.postal_code), shapes) => {
            let example = example(shapes[0]);
            errors.insert(
                "postal_code",
                format!("This does not look like a postal code here (e.g. {example})."),
            );
        }
        Some(_) => {}
    }
    errors
}

/// A deliberately simple e-mail check: one `@`, a non-empty local part, a dotted domain and
/// no spaces. Only sending a message proves an address; this catches typing slips.
fn email_ok(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let label_ok = |l: &str| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-');
    email.len() <= 254
        && !local.is_empty()
        && !local.contains(char::is_whitespace)
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(label_ok)
}

/// The shapes a postal code may take per country: `9` a digit, `A` a letter, `-` itself, and a
/// space that may be left out. The countries match the form's list.
pub fn postal_shapes(country: &str) -> Option<&'static [&'static str]> {
    Some(match country {
        "US" => &["99999", "99999-9999"],
        "CA" => &["A9A 9A9"],
        "GB" => &[
            "A9 9AA", "A99 9AA", "AA9 9AA", "AA99 9AA", "A9A 9AA", "AA9A 9AA",
        ],
        "FR" | "DE" | "ES" | "IT" => &["99999"],
        "NL" => &["9999 AA"],
        "JP" => &["999-9999"],
        "AU" | "CH" | "AT" | "BE" | "DK" | "NO" => &["9999"],
        "IN" => &["999999"],
        "BR" => &["99999-999"],
        _ => return None,
    })
}

/// A sample code for a shape: digits and letters in order, "A9A 9A9" becomes "A1B 2C3".
fn example(shape: &str) -> String {
    let (mut digit, mut letter) = (b'1', b'A');
    let next = |c: &mut u8, wrap: u8, first: u8| {
        let out = char::from(*c);
        *c = if *c == wrap { first } else { *c + 1 };
        out
    };
    shape
        .chars()
        .map(|c| match c {
            '9' => next(&mut digit, b'9', b'0'),
            'A' => next(&mut letter, b'Z', b'A'),
            other => other,
        })
        .collect()
}

fn fits(code: &str, shapes: &[&str]) -> bool {
    let code: Vec<char> = code.trim().to_ascii_uppercase().chars().collect();
    shapes.iter().any(|shape| fits_shape(&code, shape))
}

fn fits_shape(code: &[char], shape: &str) -> bool {
    let mut code = code.iter().copied().peekable();
    for want in shape.chars() {
        match want {
            ' ' => {
                // optional space
                if code.peek() == Some(&' ') {
                    code.next();
                }
            }
            '9' if code.next().is_some_and(|c| c.is_ascii_digit()) => {}
            'A' if code.next().is_some_and(|c| c.is_ascii_uppercase()) => {}
            '-' if code.next() == Some('-') => {}
            _ => return false,
        }
    }
    code.next().is_none()
}

pub fn routes() -> Vec<Route> {
    routes![register]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(
        name: &'a str,
        email: &'a str,
        seats: &'a str,
        cc: &'a str,
        pc: &'a str,
    ) -> Registration<'a> {
        Registration {
            name: Some(name),
            email: Some(email),
            seats: Some(seats),
            country: Some(cc),
            postal_code: Some(pc),
            since: None,
        }
    }

    #[test]
    fn a_complete_form_is_valid() {
        assert!(validate(&form("Ada", "ada@example.org", "2", "gb", "sw1a 1aa")).is_empty());
        assert!(validate(&form("Ada", "a@b.co", "10", "US", "10001-1234")).is_empty());
        assert!(validate(&form("Ada", "a@b.co", "1", "CA", "K1A0B1")).is_empty());
    }

    #[test]
    fn each_bad_field_is_named() {
        let errors = validate(&form("", "nope", "11", "US", "ABCDE"));
        let fields: Vec<_> = errors.keys().copied().collect();
        assert_eq!(fields, ["email", "name", "postal_code", "seats"]);
        assert!(
            validate(&form(&"x".repeat(81), "a@b.co", "1", "FR", "75001")).contains_key("name")
        );
        assert!(validate(&form("A", "a@b.co", "0", "XX", "1")).contains_key("country"));
        assert!(validate(&<Registration<'_> as Default>::default()).len() >= 4);
    }

    #[test]
    fn postal_shapes_follow_the_country() {
        let us = postal_shapes("US").unwrap();
        assert!(fits("10001", us) && fits(" 10001 ", us) && !fits("1000", us));
        let gb = postal_shapes("GB").unwrap();
        assert!(fits("EC1A 1BB", gb) && fits("M11AE", gb) && !fits("12345", gb));
        assert!(fits("1012 ab", postal_shapes("NL").unwrap()));
        assert_eq!(example("A9A 9A9"), "A1B 2C3");
        assert_eq!(example("99999-9999"), "12345-6789");
    }
}
