//! Postal-code lookup figures, with plain `std` timing:
//!
//!     cargo bench --bench postal
//!
//! Prints the start-up cost (opening the bundled data), the first use of a country, resident
//! memory before and after the US is loaded, lookup latency (p50/p99/max) on the directory
//! and through Rocket's local client, and the one-off cost of the every-country index.
//! Targets from issue 4: p99 < 1 ms, first use < 200 ms, US resident memory < 30 MB,
//! start-up slowed by < 100 ms.

use std::path::Path;
use std::time::{Duration, Instant};

use reverse_ajax::postal::code::{Country, PostalCode};
use reverse_ajax::postal::directory::Directory;
use rocket::local::blocking::Client;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/postal");
const LOOKUPS: usize = 100_000;
const REQUESTS: usize = 10_000;

/// Resident memory of this process in KiB, from /proc/self/status.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A cheap deterministic sequence of US-style codes, most of which exist.
fn codes(n: usize) -> Vec<PostalCode> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            PostalCode::parse(&format!("{:05}", 1000 + x % 98_000)).expect("a valid code")
        })
        .collect()
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    format!(
        "p50 {:.1?}  p99 {:.1?}  max {:.1?}  ({} samples)",
        at(0.50),
        at(0.99),
        samples[samples.len() - 1],
        samples.len()
    )
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let us = Country::parse("US").expect("US");

    let started = Instant::now();
    let directory = Directory::open(Path::new(DATA)).expect("the bundled data");
    println!(
        "start-up: opening {} ({} countries) took {:.2?}",
        DATA,
        directory.countries().len(),
        started.elapsed()
    );

    let before = rss_kib();
    let started = Instant::now();
    let table = runtime.block_on(directory.table(us)).expect("US data");
    let first_use = started.elapsed();
    let after = rss_kib();
    println!("first use of US: {} rows in {first_use:.1?}", table.len());
    println!(
        "resident memory: {:.1} MiB before, {:.1} MiB with US loaded (+{:.1} MiB)",
        mib(before),
        mib(after),
        mib(after.saturating_sub(before))
    );

    let queries = codes(LOOKUPS);
    let mut samples = Vec::with_capacity(LOOKUPS);
    let mut found = 0usize;
    runtime.block_on(async {
        for code in &queries {
            let started = Instant::now();
            let places = directory.lookup(code, Some(us), 20).await;
            std::hint::black_box(serde_json::to_string(&places).unwrap_or_default());
            samples.push(started.elapsed());
            found += usize::from(!places.is_empty());
        }
    });
    println!(
        "lookup + JSON, directory: {}; {found} hits",
        percentiles(samples)
    );

    let client = Client::tracked(reverse_ajax::rocket_from(
        rocket::Config::figment()
            .merge(("ticker.enabled", false))
            .merge(("log_level", "off")),
    ))
    .expect("the app ignites");
    let mut samples = Vec::with_capacity(REQUESTS);
    for code in queries.iter().take(REQUESTS) {
        let uri = format!(
            "/api/postalcodes?postalcode={}&country=US&callback=cb",
            code.as_str()
        );
        let started = Instant::now();
        let response = client.get(uri).dispatch();
        let body = response.into_string();
        samples.push(started.elapsed());
        assert!(body.is_some_and(|b| b.starts_with("/**/cb(")));
    }
    println!(
        "GET /api/postalcodes (JSONP) through Rocket's local client: {}",
        percentiles(samples)
    );

    for name in ["DE", "FR", "JP", "MX"] {
        let country = Country::parse(name).expect("a country");
        let started = Instant::now();
        let rows = runtime
            .block_on(directory.table(country))
            .map_or(0, |t| t.len());
        println!(
            "first use of {name}: {rows} rows in {:.1?}",
            started.elapsed()
        );
    }

    let before = rss_kib();
    let started = Instant::now();
    let code = PostalCode::parse("10115").expect("a code");
    let places = runtime.block_on(directory.lookup(&code, None, 100));
    println!(
        "first query without a country (builds the index): {:.1?}, {} places, +{:.1} MiB",
        started.elapsed(),
        places.len(),
        mib(rss_kib().saturating_sub(before))
    );
    let mut samples = Vec::with_capacity(10_000);
    runtime.block_on(async {
        for code in queries.iter().take(10_000) {
            let started = Instant::now();
            let _places = directory.lookup(code, None, 20).await;
            samples.push(started.elapsed());
        }
    });
    println!(
        "lookup without a country (after the countries it needs are loaded): {}",
        percentiles(samples)
    );
    println!("resident memory at the end: {:.1} MiB", mib(rss_kib()));
}
