//! The event patterns the experiment's publisher follows: `ticker` (one event after a random
//! pause of 1 to 3 s, like the article's demo server and our `demo` ticker), `rate:R` (R events
//! a second, evenly spaced) and `burst:N` (N events at once, every 10 s).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;

/// How often a burst repeats.
pub const BURST_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pattern {
    Ticker,
    Rate(f64),
    Burst(u32),
}

impl Pattern {
    /// The offsets from the start of a window of `length` at which events are published,
    /// in order (a burst repeats one offset N times).
    pub fn schedule(self, length: Duration, rng: &mut impl Rng) -> Vec<Duration> {
        let mut at = Vec::new();
        match self {
            Pattern::Ticker => {
                let mut t = Duration::ZERO;
                loop {
                    t += Duration::from_millis(rng.gen_range(1000..=3000));
                    if t >= length {
                        break;
                    }
                    at.push(t);
                }
            }
            Pattern::Rate(rate) => {
                let gap = Duration::from_secs_f64(1.0 / rate);
                let mut t = Duration::ZERO;
                while t < length {
                    at.push(t);
                    t += gap;
                }
            }
            Pattern::Burst(n) => {
                let mut t = Duration::ZERO;
                while t < length {
                    at.extend(std::iter::repeat_n(t, n as usize));
                    t += BURST_EVERY;
                }
            }
        }
        at
    }
}

impl FromStr for Pattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Pattern, String> {
        let bad = || format!("unknown pattern {text:?}: use ticker, rate:R (events/s) or burst:N");
        match text.split_once(':') {
            None if text == "ticker" => Ok(Pattern::Ticker),
            Some(("rate", r)) => match r.parse::<f64>() {
                Ok(r) if r > 0.0 && r <= 1000.0 => Ok(Pattern::Rate(r)),
                _ => Err(format!(
                    "rate:{r}: the rate must be above 0 and at most 1000 a second"
                )),
            },
            Some(("burst", n)) => match n.parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => Ok(Pattern::Burst(n)),
                _ => Err(format!("burst:{n}: a burst is 1 to 1000 events")),
            },
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Ticker => f.write_str("ticker"),
            Pattern::Rate(r) => write!(f, "rate:{r}"),
            Pattern::Burst(n) => write!(f, "burst:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_patterns_parse_and_print_back() {
        for text in ["ticker", "rate:0.1", "rate:5", "burst:20"] {
            let pattern: Pattern = text.parse().unwrap();
            assert_eq!(pattern.to_string(), text);
        }
        assert_eq!("rate:2.5".parse(), Ok(Pattern::Rate(2.5)));
        assert_eq!("burst:3".parse(), Ok(Pattern::Burst(3)));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for text in [
            "",
            "tick",
            "rate:",
            "rate:0",
            "rate:-1",
            "rate:x",
            "burst:0",
            "burst:1.5",
        ] {
            assert!(text.parse::<Pattern>().is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn the_ticker_pauses_one_to_three_seconds() {
        let at = Pattern::Ticker.schedule(Duration::from_secs(60), &mut rand::thread_rng());
        assert!(at.len() >= 19 && at.len() <= 60, "{} events", at.len());
        let mut last = Duration::ZERO;
        for t in at {
            let gap = t - last;
            assert!(gap >= Duration::from_secs(1) && gap <= Duration::from_secs(3));
            last = t;
        }
    }

    #[test]
    fn a_rate_spaces_events_evenly_and_a_burst_repeats() {
        let mut rng = rand::thread_rng();
        let rate = Pattern::Rate(0.1).schedule(Duration::from_secs(60), &mut rng);
        assert_eq!(
            rate,
            (0..6)
                .map(|i| Duration::from_secs(i * 10))
                .collect::<Vec<_>>()
        );
        let burst = Pattern::Burst(3).schedule(Duration::from_secs(15), &mut rng);
        assert_eq!(burst.len(), 6);
        assert_eq!(burst[3], BURST_EVERY);
    }
}
