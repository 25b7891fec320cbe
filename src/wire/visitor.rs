//! The visitor channel rule: the channels the pages read are `demo`, everyone's channel (fed
//! by the ticker), or a visitor's own `demo-` followed by 6 to 32 characters from `a-z` and
//! `0-9`. The pages pick one per visitor ([`crate::pages`]); only own channels take an event
//! pattern ([`crate::patterns`]).

use rand::seq::SliceRandom;

use crate::hub::Channel;

/// Everyone's channel, the ticker's: its name is written here and nowhere else in the code
/// (the pages get it from their context).
pub const SHARED: &str = "demo";

/// What every visitor's own channel starts with: [`SHARED`] and a dash.
pub const PREFIX: &str = "demo-";

/// [`SHARED`] as a channel.
pub fn shared() -> Channel {
    Channel::parse(SHARED).unwrap_or_else(|_| unreachable!("{SHARED:?} is a valid channel name"))
}

/// How many random characters a fresh channel gets after [`PREFIX`].
const FRESH_LEN: usize = 12;

/// The characters of an own channel after [`PREFIX`].
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// True for a visitor's own channel: `demo-` and 6 to 32 of `[a-z0-9]`.
pub fn is_own(name: &str) -> bool {
    name.strip_prefix(PREFIX).is_some_and(|rest| {
        (6..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// True for a channel a page may show: [`SHARED`] or a visitor's own.
pub fn is_visitor(name: &str) -> bool {
    name == SHARED || is_own(name)
}

/// A new own channel, `demo-` and 12 random characters from `[a-z0-9]`.
pub fn fresh() -> String {
    let mut random = rand::thread_rng();
    let rest: String = (0..FRESH_LEN)
        .filter_map(|_| ALPHABET.choose(&mut random).copied().map(char::from))
        .collect();
    format!("{PREFIX}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visitor_rule() {
        for good in [
            "demo",
            "demo-abc123",
            "demo-000000",
            &format!("demo-{}", "a".repeat(32)),
        ] {
            assert!(is_visitor(good), "{good}");
        }
        for bad in [
            "",
            "demo-",
            "demo-abc12",
            "demo-ABCDEF",
            "demo-abc_def",
            "demo-abc-def",
            "other",
            "private-abcdef",
            "demoabcdef",
            &format!("demo-{}", "a".repeat(33)),
        ] {
            assert!(!is_visitor(bad), "{bad}");
        }
        assert!(!is_own("demo"), "everyone's channel is no one's own");
        assert_eq!(PREFIX, format!("{SHARED}-"));
        assert_eq!(shared().as_str(), SHARED);
    }

    #[test]
    fn fresh_channels_follow_the_rule_and_differ() {
        let (a, b) = (fresh(), fresh());
        assert!(is_own(&a), "{a}");
        assert_eq!(a.len(), PREFIX.len() + FRESH_LEN);
        assert_ne!(a, b);
    }
}
