//! Publish rate limits: `[clients] publish_per_ip` events per second for anonymous
//! publishers, counted per client address, and `publish_per_token` per token holder. Each
//! allows bursts of twice its rate. governor counts (GCRA: one timestamp per key).
//!
//! Memory stays bounded: a periodic sweep forgets every key whose bucket has refilled (it
//! would behave as a new one), and at most [`MAX_KEYS`] keys are kept per kind. When that
//! many clients are publishing at once, a new one waits for a sweep.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The most keys a limiter keeps (about 100 bytes each).
pub const MAX_KEYS: usize = 100_000;

/// Who a publish is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publisher {
    /// No token: the client's address.
    Anonymous(IpAddr),
    /// A token holder: the token's `sub`, or its signature when it has none.
    Holder(String),
}

/// The two publish limiters.
pub struct PublishRates {
    anonymous: DefaultKeyedRateLimiter<IpAddr>,
    holders: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl std::fmt::Debug for PublishRates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishRates")
            .field("anonymous_keys", &self.anonymous.len())
            .field("holder_keys", &self.holders.len())
            .finish()
    }
}

fn quota(per_second: NonZeroU32) -> Quota {
    let burst = per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1));
    Quota::per_second(per_second).allow_burst(burst)
}

impl PublishRates {
    pub fn new(per_ip: NonZeroU32, per_token: NonZeroU32) -> PublishRates {
        PublishRates {
            anonymous: RateLimiter::keyed(quota(per_ip)),
            holders: RateLimiter::keyed(quota(per_token)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one publish; `Err` carries how long to wait before the next one is allowed.
    pub fn check(&self, publisher: &Publisher) -> Result<(), Duration> {
        self.check_n(publisher, NonZeroU32::MIN)
    }

    /// Counts `n` publishes at once, all or none; `Err` carries how long to wait. More than
    /// a whole burst can never pass: it waits a second, like a full limiter.
    pub fn check_n(&self, publisher: &Publisher, n: NonZeroU32) -> Result<(), Duration> {
        let outcome = match publisher {
            Publisher::Anonymous(ip) => bounded(&self.anonymous, ip, n),
            Publisher::Holder(key) => bounded(&self.holders, key, n),
        };
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(wait)) => Err(wait.wait_time_from(self.clock.now())),
            None => Err(Duration::from_secs(1)),
        }
    }

    /// Forgets every key whose bucket is full again.
    pub fn sweep(&self) {
        self.anonymous.retain_recent();
        self.anonymous.shrink_to_fit();
        self.holders.retain_recent();
        self.holders.shrink_to_fit();
    }
}

type Outcome = Result<(), governor::NotUntil<<DefaultClock as Clock>::Instant>>;

/// Checks `n` cells for `key`, sweeping first when the limiter is full; `None` when it is
/// still full, or when `n` is more than a whole burst.
fn bounded<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K, n: NonZeroU32) -> Option<Outcome>
where
    K: std::hash::Hash + Eq + Clone,
{
    if limiter.len() >= MAX_KEYS {
        limiter.retain_recent();
        if limiter.len() >= MAX_KEYS {
            return None;
        }
    }
    limiter.check_key_n(key, n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_of_twice_the_rate_then_a_wait() {
        let n = NonZeroU32::new(5).unwrap();
        let rates = PublishRates::new(n, n);
        let me = Publisher::Anonymous("192.0.2.1".parse().unwrap());
        let passed = (0..20).filter(|_| rates.check(&me).is_ok()).count();
        assert_eq!(passed, 10);
        let wait = rates.check(&me).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        let other = Publisher::Anonymous("192.0.2.2".parse().unwrap());
        assert!(rates.check(&other).is_ok());
        assert!(rates.check(&Publisher::Holder("ada".into())).is_ok());
    }
}
