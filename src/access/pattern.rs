//! Channel patterns, as `[auth]` and token claims list them: a channel name, or a prefix
//! ending in `*` (`team-*`; `*` alone is every channel).

use crate::hub::Channel;

/// One pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Exact(String),
    Prefix(String),
}

impl Pattern {
    /// Accepts a channel name, or channel characters followed by one `*`.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let refuse = || {
            format!(
                "`{text}` is not a channel pattern: use a channel name (`news`) or a prefix \
                 ending in `*` (`team-*`)"
            )
        };
        match text.strip_suffix('*') {
            Some("") => Ok(Pattern::Prefix(String::new())),
            // A prefix is a channel name cut short: the same characters, one shorter.
            Some(prefix) => Channel::parse(prefix)
                .ok()
                .filter(|_| prefix.len() < Channel::MAX_LEN)
                .map(|_| Pattern::Prefix(prefix.to_owned()))
                .ok_or_else(refuse),
            None => Channel::parse(text)
                .map(|_| Pattern::Exact(text.to_owned()))
                .map_err(|_| refuse()),
        }
    }

    pub fn matches(&self, channel: &str) -> bool {
        match self {
            Pattern::Exact(name) => name == channel,
            Pattern::Prefix(prefix) => channel.starts_with(prefix.as_str()),
        }
    }
}

/// A list of patterns; a channel matches the list when it matches any of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patterns(Vec<Pattern>);

impl Patterns {
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<Patterns, String> {
        texts
            .iter()
            .map(|t| Pattern::parse(t.as_ref()))
            .collect::<Result<_, _>>()
            .map(Patterns)
    }

    pub fn matches(&self, channel: &str) -> bool {
        self.0.iter().any(|p| p.matches(channel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_prefixes() {
        let list = Patterns::parse(&["demo", "team-*"]).unwrap();
        assert!(list.matches("demo") && list.matches("team-a") && list.matches("team-"));
        assert!(!list.matches("demo-1") && !list.matches("tea") && !list.matches("x"));
        assert!(Patterns::parse(&["*"]).unwrap().matches("anything"));
        assert!(!Patterns::default().matches("demo"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in ["", "a*b", "**", "a b", "te*m-*", &"a".repeat(65)] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
