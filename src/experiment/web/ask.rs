//! The body of `POST /api/experiments`: `{"clients": N, "seconds": S, "pattern": "ticker",
//! "interval": 2}`, read into the experiment's [`Options`] within the web's bounds.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::ExperimentsConfig;
use crate::experiment::{Options, Pattern, Server, Technique};

/// The shortest and longest interval, in seconds (those of [`Options::check`]).
const INTERVAL: (f64, f64) = (0.05, 60.0);

/// What a page asks for; every field is needed and no other is taken.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ask {
    /// Simulated browsers per technique.
    clients: u64,
    /// Seconds of events per technique.
    seconds: u64,
    pattern: String,
    /// Seconds between two polls or form posts (fractions allowed).
    interval: f64,
}

/// The pattern a page names: the lab's own names (`ticker`, `every-10s`, `burst`, as the
/// channel patterns call them) or the command line's (`rate:R`, `burst:N`).
fn pattern(name: &str) -> Result<Pattern, String> {
    match name {
        "every-10s" => Ok(Pattern::Rate(0.1)),
        "burst" => Ok(Pattern::Burst(10)),
        "quiet" => Err(
            "pattern `quiet` publishes nothing, so there would be nothing to measure: use \
             ticker, every-10s, burst, rate:R or burst:N"
                .to_owned(),
        ),
        _ => name.parse().map_err(|e| {
            format!("{e}; the lab's names every-10s (rate:0.1) and burst (burst:10) work too")
        }),
    }
}

/// The options of an experiment started with `body`, against a child server started from
/// `binary`; every refusal is one line for a 400.
pub fn options(body: &str, config: &ExperimentsConfig, binary: &Path) -> Result<Options, String> {
    let ask: Ask = serde_json::from_str(body).map_err(|e| {
        format!(
            "send a JSON object such as {{\"clients\": 100, \"seconds\": 30, \"pattern\": \
             \"ticker\", \"interval\": 2}}: {e}"
        )
    })?;
    let (max_clients, max_seconds) = (config.max_clients, config.max_seconds);
    let clients = usize::try_from(ask.clients).unwrap_or(usize::MAX);
    if !(1..=max_clients).contains(&clients) {
        return Err(format!(
            "clients must be 1 to {max_clients} from the web, not {}",
            ask.clients
        ));
    }
    if !(1..=max_seconds).contains(&ask.seconds) {
        return Err(format!(
            "seconds must be 1 to {max_seconds} from the web, not {}",
            ask.seconds
        ));
    }
    if !(INTERVAL.0..=INTERVAL.1).contains(&ask.interval) {
        return Err(format!(
            "interval must be {} to {} seconds, not {}",
            INTERVAL.0, INTERVAL.1, ask.interval
        ));
    }
    let options = Options {
        clients,
        seconds: ask.seconds,
        interval: Duration::from_secs_f64(ask.interval),
        pattern: pattern(&ask.pattern)?,
        techniques: Technique::ALL.to_vec(),
        server: Server::Spawn(binary.to_owned()),
    };
    options.check()?;
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(body: &str) -> Result<Options, String> {
        options(
            body,
            &ExperimentsConfig::default(),
            Path::new("reverse-ajax"),
        )
    }

    #[test]
    fn a_full_body_becomes_the_options_of_every_technique() {
        let options = ask(r#"{"clients": 5, "seconds": 3, "pattern": "ticker", "interval": 0.5}"#)
            .expect("accepted");
        assert_eq!(options.clients, 5);
        assert_eq!(options.seconds, 3);
        assert_eq!(options.interval, Duration::from_millis(500));
        assert_eq!(options.pattern, Pattern::Ticker);
        assert_eq!(options.techniques, Technique::ALL);
    }

    #[test]
    fn the_labs_pattern_names_and_the_command_lines_are_taken() {
        for (name, expected) in [
            ("ticker", Pattern::Ticker),
            ("every-10s", Pattern::Rate(0.1)),
            ("burst", Pattern::Burst(10)),
            ("rate:2", Pattern::Rate(2.0)),
            ("burst:3", Pattern::Burst(3)),
        ] {
            assert_eq!(pattern(name), Ok(expected), "{name}");
        }
        assert!(pattern("quiet").is_err_and(|e| e.contains("nothing to measure")));
        assert!(pattern("loud").is_err());
    }

    #[test]
    fn bodies_out_of_bounds_or_of_another_shape_are_refused_in_one_line() {
        for body in [
            "",
            "[]",
            "{}",
            r#"{"clients": 5, "seconds": 3, "pattern": "ticker"}"#,
            r#"{"clients": 5, "seconds": 3, "pattern": "ticker", "interval": 2, "url": "x"}"#,
            r#"{"clients": 501, "seconds": 3, "pattern": "ticker", "interval": 2}"#,
            r#"{"clients": 0, "seconds": 3, "pattern": "ticker", "interval": 2}"#,
            r#"{"clients": -1, "seconds": 3, "pattern": "ticker", "interval": 2}"#,
            r#"{"clients": 5.5, "seconds": 3, "pattern": "ticker", "interval": 2}"#,
            r#"{"clients": 5, "seconds": 121, "pattern": "ticker", "interval": 2}"#,
            r#"{"clients": 5, "seconds": 3, "pattern": "ticker", "interval": 0}"#,
            r#"{"clients": 5, "seconds": 3, "pattern": "ticker", "interval": 61}"#,
            r#"{"clients": 5, "seconds": 3, "pattern": "quiet", "interval": 2}"#,
            r#"{"clients": 5, "seconds": 3, "pattern": 7, "interval": 2}"#,
        ] {
            let refusal = ask(body).expect_err(body);
            assert!(!refusal.contains('\n'), "{body}: {refusal}");
        }
        let unknown =
            ask(r#"{"clients": 5, "seconds": 3, "pattern": "ticker", "interval": 2, "url": "x"}"#);
        assert!(unknown.is_err_and(|e| e.contains("unknown field `url`")));
    }
}
