//! The two values a postal-code query is keyed by, checked once at the edge: a postal code
//! and a two-letter country code.
//!
//! Postal codes are compared in a normal form (upper case, no white space, no hyphens), so
//! `sw1a 1aa`, `SW1A1AA` and ` 10001 ` find what they should, and so does Japan's `1000001`,
//! the way most people type `100-0001`. The data files go through the same
//! [`normalize`], so both sides always agree.

use std::fmt;

/// The longest postal code accepted in a query, in characters (after trimming).
pub const MAX_LEN: usize = 20;

/// A postal code from a query, already normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

/// Why a query value was refused. The messages never contain the refused value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Empty,
    TooLong,
    Characters,
    Country,
}

impl Invalid {
    pub fn message(self) -> &'static str {
        match self {
            Invalid::Empty => "missing parameter postalcode",
            Invalid::TooLong => "invalid parameter postalcode: at most 20 characters",
            Invalid::Characters => {
                "invalid parameter postalcode: only letters, digits, spaces and hyphens"
            }
            Invalid::Country => "invalid parameter country: two letters such as US or gb",
        }
    }
}

/// The form codes are compared in: ASCII upper case, white space and hyphens removed. No
/// country has two codes that differ only by a hyphen, so dropping it loses nothing.
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl PostalCode {
    /// Accepts up to 20 letters, digits, spaces and hyphens around at least one letter or
    /// digit. Leading and trailing white space does not count.
    pub fn parse(raw: &str) -> Result<PostalCode, Invalid> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Invalid::Empty);
        }
        if trimmed.chars().count() > MAX_LEN {
            return Err(Invalid::TooLong);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == ' ' || c == '-';
        if !trimmed.chars().all(allowed) || !trimmed.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(Invalid::Characters);
        }
        Ok(PostalCode(normalize(trimmed)))
    }

    /// The normalised code, the key used by the directory.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 3166 alpha-2 country code, stored in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// Accepts exactly two ASCII letters, in either case.
    pub fn parse(raw: &str) -> Result<Country, Invalid> {
        match raw.trim().as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(Invalid::Country),
        }
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_for_case_and_spaces() {
        assert_eq!(PostalCode::parse(" 10001 ").unwrap().as_str(), "10001");
        assert_eq!(PostalCode::parse("sw1a 1aa").unwrap().as_str(), "SW1A1AA");
        assert_eq!(
            PostalCode::parse("SW1A1AA").unwrap(),
            PostalCode::parse("Sw1A 1aA").unwrap()
        );
        assert_eq!(PostalCode::parse("1000-001").unwrap().as_str(), "1000001");
        assert_eq!(
            PostalCode::parse("100-0001").unwrap(),
            PostalCode::parse("1000001").unwrap()
        );
        assert_eq!(normalize("100 04"), "10004");
    }

    #[test]
    fn empty_long_and_strange_codes_are_refused() {
        assert_eq!(PostalCode::parse(""), Err(Invalid::Empty));
        assert_eq!(PostalCode::parse("   "), Err(Invalid::Empty));
        assert_eq!(PostalCode::parse(&"1".repeat(21)), Err(Invalid::TooLong));
        assert!(PostalCode::parse(&format!("  {}  ", "1".repeat(20))).is_ok());
        for bad in ["<script>", "10001;", "a\"b", "---", "10\t001", "1000\u{e9}"] {
            assert_eq!(PostalCode::parse(bad), Err(Invalid::Characters), "{bad:?}");
        }
    }

    #[test]
    fn messages_never_repeat_the_input() {
        for invalid in [
            Invalid::Empty,
            Invalid::TooLong,
            Invalid::Characters,
            Invalid::Country,
        ] {
            assert!(!invalid.message().contains('<'));
        }
    }

    #[test]
    fn countries_are_two_letters_in_any_case() {
        assert_eq!(Country::parse("us").unwrap().as_str(), "US");
        assert_eq!(Country::parse("Gb").unwrap().to_string(), "GB");
        for bad in ["", "U", "USA", "1A", "é1", "u s"] {
            assert_eq!(Country::parse(bad), Err(Invalid::Country), "{bad:?}");
        }
    }
}
