//! `reverse-ajax experiment` end to end: the real binary starts its own child server on
//! loopback, runs every technique with 5 clients and prints JSON, which must hold the
//! documented keys and the figures the article's claims rest on. [`web`]: the same from
//! `POST /api/experiments`.

#[path = "../common/mod.rs"]
mod common;

mod orphan;
mod web;

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde_json::Value;

/// The run takes about 9 × 7.5 s; anything far beyond that is a hang.
const LIMIT: Duration = Duration::from_secs(110);

/// The keys of each technique's object in the JSON.
const KEYS: [&str; 11] = [
    "technique",
    "requests",
    "empty_answers",
    "bytes_down",
    "bytes_up",
    "events",
    "lost",
    "duplicates",
    "connections",
    "latency_ms",
    "server_cpu_ms",
];

/// Every technique, in the order of the results.
const SLUGS: [&str; 9] = [
    "polling",
    "jsonp-polling",
    "piggyback",
    "forever-iframe",
    "multipart-streaming",
    "server-sent-events",
    "script-long-polling",
    "long-polling",
    "websocket",
];

/// Runs the binary with `args`, fails the test if it takes longer than `limit`, and parses
/// its stdout as JSON.
fn experiment(args: &[&str], limit: Duration) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reverse-ajax"))
        .arg("experiment")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let stdout = child.stdout.take().expect("its stdout");
    let stderr = child.stderr.take().expect("its stderr");
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let out = std::io::read_to_string(stdout).expect("stdout");
        let err = std::io::read_to_string(stderr).expect("stderr");
        // The test may have given up already; then nobody needs the output.
        let _ignored = done.send((out, err));
    });
    let Ok((out, err)) = finished.recv_timeout(limit) else {
        child.kill().expect("the experiment (pid {pid}) is stopped");
        panic!("the experiment (pid {pid}) took longer than {limit:?}");
    };
    let status = child.wait().expect("an exit status");
    assert!(status.success(), "the experiment failed ({status}): {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn field(result: &Value, key: &str) -> f64 {
    result[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {result}"))
}

#[test]
fn every_technique_delivers_every_event_once_and_the_figures_tell_them_apart() {
    // --interval 1 keeps the nine runs within about a minute (each is 2 intervals longer).
    let results = experiment(
        &[
            "--clients",
            "5",
            "--seconds",
            "5",
            "--interval",
            "1",
            "--format",
            "json",
        ],
        LIMIT,
    );
    let results = results.as_array().expect("an array");
    let by_slug = |slug: &str| {
        results
            .iter()
            .find(|r| r["technique"] == slug)
            .unwrap_or_else(|| panic!("no result for {slug}"))
    };
    assert_eq!(results.len(), SLUGS.len());
    for slug in SLUGS {
        let result = by_slug(slug);
        let mut found: Vec<&str> = result
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        found.sort_unstable();
        let mut expected = KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(found, expected, "{slug}");
        for p in ["p50", "p95", "p99"] {
            assert!(
                result["latency_ms"][p].is_number(),
                "{slug} has no {p}: {result}"
            );
        }
        assert!(
            field(result, "events") >= 5.0,
            "{slug} delivered nothing: {result}"
        );
        assert_eq!(field(result, "lost"), 0.0, "{slug} lost events: {result}");
        assert_eq!(
            field(result, "duplicates"),
            0.0,
            "{slug} duplicated events: {result}"
        );
        assert!(field(result, "bytes_down") > 0.0 && field(result, "bytes_up") > 0.0);
        assert!(field(result, "server_cpu_ms") >= 0.0, "{slug}: {result}");
    }

    let empty_share =
        |slug| field(by_slug(slug), "empty_answers") / field(by_slug(slug), "requests");
    assert!(empty_share("polling") > empty_share("long-polling"));
    for slug in [
        "forever-iframe",
        "multipart-streaming",
        "server-sent-events",
        "websocket",
    ] {
        assert!(
            field(by_slug(slug), "connections") <= 2.0 * 5.0,
            "{slug}: {}",
            by_slug(slug)
        );
    }
    let p50 = |slug| field(&by_slug(slug)["latency_ms"], "p50");
    assert!(p50("polling") > p50("server-sent-events"));
}

#[test]
fn runs_beyond_the_bounds_are_refused() {
    for args in [["--clients", "2001"], ["--seconds", "601"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_reverse-ajax"))
            .arg("experiment")
            .args(args)
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains(args[0]), "{message}");
    }
}

#[test]
fn the_technique_measured_first_pays_nothing_for_the_servers_start() {
    // The same technique first and last: a fresh child server spends 0.7 s (release) to a few
    // seconds (debug) of CPU right after it starts accepting, which the first run used to pay.
    let results = experiment(
        &[
            "--clients",
            "5",
            "--seconds",
            "2",
            "--interval",
            "0.5",
            "--techniques",
            "polling,server-sent-events,polling",
            "--format",
            "json",
        ],
        LIMIT,
    );
    let results = results.as_array().expect("an array");
    assert_eq!(results.len(), 3, "{results:?}");
    let cpu = |i: usize| field(&results[i], "server_cpu_ms");
    let (first, last) = (cpu(0), cpu(2));
    // Run to run, the same small load differs by a few clock ticks (10 ms each); the start-up
    // work is ten times that or more.
    assert!(
        (first - last).abs() <= 60.0,
        "polling first used {first} ms of server CPU and last {last} ms: {results:?}"
    );
}
