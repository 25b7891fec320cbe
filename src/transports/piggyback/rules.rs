//! The piggyback form's rules: what each field of the talk registration must hold, and the
//! message shown next to it when it does not.

use rocket::form::{self, FromForm};

/// The registration form. Each rule is a `#[field(validate = …)]` on its field, so Rocket
/// checks them all and [`Contextual`](rocket::form::Contextual) keeps every failure next to the field's name. A missing
/// field counts as empty, so it too is reported next to its input instead of failing the whole
/// request. `since` is not checked here: a malformed cursor is a 400, not a form error.
#[derive(Debug, FromForm)]
pub struct Registration<'r> {
    #[field(default = "", validate = name_ok())]
    pub name: &'r str,
    #[field(default = "", validate = email_ok())]
    pub email: &'r str,
    #[field(default = "", validate = seats_ok())]
    pub seats: &'r str,
    #[field(default = "", validate = country_ok())]
    pub country: &'r str,
    #[field(default = "", validate = postal_code_ok(self.country))]
    pub postal_code: &'r str,
    pub since: Option<&'r str>,
}

/// A failed check with the message shown next to the field.
fn wrong<'v>(message: impl Into<std::borrow::Cow<'v, str>>) -> form::Result<'v, ()> {
    Err(form::Error::validation(message).into())
}

/// A name is given and at most 80 characters long.
fn name_ok<'v>(name: &str) -> form::Result<'v, ()> {
    let name = name.trim();
    if name.is_empty() {
        wrong("Please give your name.")
    } else if name.chars().count() > 80 {
        wrong("A name is at most 80 characters.")
    } else {
        Ok(())
    }
}

/// An e-mail address that passes [`plausible_email`].
fn email_ok<'v>(email: &str) -> form::Result<'v, ()> {
    if plausible_email(email.trim()) {
        Ok(())
    } else {
        wrong("Please give an e-mail address such as ada@example.org.")
    }
}

/// Between 1 and 10 seats.
fn seats_ok<'v>(seats: &str) -> form::Result<'v, ()> {
    if seats
        .trim()
        .parse::<u8>()
        .is_ok_and(|n| (1..=10).contains(&n))
    {
        Ok(())
    } else {
        wrong("Choose between 1 and 10 seats.")
    }
}

/// One of the form's countries (see [`postal_shapes`]), in either case.
fn country_ok<'v>(country: &str) -> form::Result<'v, ()> {
    match postal_shapes(&country.trim().to_ascii_uppercase()) {
        Some(_) => Ok(()),
        None => wrong("Choose a country from the list."),
    }
}

/// A postal code of one of the country's shapes. An unknown country is the country field's
/// error alone, so the code is not judged against it.
fn postal_code_ok<'v>(code: &str, country: &str) -> form::Result<'v, ()> {
    match postal_shapes(&country.trim().to_ascii_uppercase()) {
        Some(shapes) if !fits(code, shapes) => {
            let example = example(shapes[0]);
            wrong(format!(
                "This does not look like a postal code here (e.g. {example})."
            ))
        }
        _ => Ok(()),
    }
}

/// A deliberately simple e-mail check: one `@`, a non-empty local part, a dotted domain and
/// no spaces. Only sending a message proves an address; this catches typing slips.
fn plausible_email(email: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use rocket::form::Form;

    use super::*;

    /// The fields Rocket's validation finds wrong in this form (already decoded), in name order.
    fn wrong_fields(form: &str) -> Vec<String> {
        match Form::<Registration<'_>>::parse(form) {
            Ok(_) => Vec::new(),
            Err(errors) => {
                let mut names: Vec<String> = errors
                    .iter()
                    .filter_map(|e| e.name.as_ref().map(ToString::to_string))
                    .collect();
                names.sort();
                names.dedup();
                names
            }
        }
    }

    #[test]
    fn a_complete_form_is_valid() {
        let ok = "name=Ada&email=ada@example.org&seats=2&country=gb&postal_code=sw1a 1aa";
        assert!(wrong_fields(ok).is_empty());
        let ok = "name=Ada&email=a@b.co&seats=10&country=US&postal_code=10001-1234";
        assert!(wrong_fields(ok).is_empty());
        let ok = "name=Ada&email=a@b.co&seats=1&country=CA&postal_code=K1A0B1&since=x";
        assert!(wrong_fields(ok).is_empty());
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad = "name=&email=nope&seats=11&country=US&postal_code=ABCDE";
        assert_eq!(wrong_fields(bad), ["email", "name", "postal_code", "seats"]);
        let long = format!(
            "name={}&email=a@b.co&seats=1&country=FR&postal_code=75001",
            "x".repeat(81)
        );
        assert_eq!(wrong_fields(&long), ["name"]);
        let unknown = "name=A&email=a@b.co&seats=0&country=XX&postal_code=1";
        assert_eq!(wrong_fields(unknown), ["country", "seats"]);
        assert_eq!(
            wrong_fields("").len(),
            4,
            "missing fields are named, the code is not judged"
        );
    }

    #[test]
    fn each_rule_says_what_is_wrong() {
        let message = |r: form::Result<'_, ()>| {
            r.err()
                .and_then(|e| e.first().map(|e| e.kind.to_string()))
                .unwrap_or_default()
        };
        assert_eq!(message(name_ok("  ")), "Please give your name.");
        assert_eq!(message(seats_ok("ten")), "Choose between 1 and 10 seats.");
        assert_eq!(
            message(postal_code_ok("1", "ca")),
            "This does not look like a postal code here (e.g. A1B 2C3)."
        );
        assert!(postal_code_ok("anything", "XX").is_ok());
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
