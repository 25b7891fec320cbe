//! Property tests of everything that parses outside input. Each property feeds a parser
//! generated input and asserts a clear refusal or a value every reader handles, never a
//! panic. A plain `cargo test --lib properties` runs a few thousand cases of each; set
//! `PROPTEST_CASES` for a longer run (the README's testing section has the command).

mod bodies;
mod inputs;

use proptest::test_runner::Config;

/// `cases` cases per property, unless `PROPTEST_CASES` asks for another number. Failures are
/// not saved to files: each one found becomes a named regression test instead.
fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

/// A one-line refusal, as every error answer carries.
fn one_line(message: &str) -> bool {
    !message.is_empty() && !message.contains(['\n', '\r'])
}
