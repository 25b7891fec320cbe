//! The figures of one run, computed from every subscriber's tally and the CPU, memory and
//! time readings taken around it. Percentiles are exact (nearest rank over all first deliveries).

use std::time::{Duration, Instant};

use reverse_ajax::load::Tally;
use reverse_ajax::load::stats::percentile;

use crate::machine::{Window, percent_of_core};
use crate::procfs::ticks_to_ms;

/// The readings of one run besides the tallies.
pub struct Readings {
    pub subscribers: usize,
    /// Events each subscriber should get (those of its channel).
    pub events: u64,
    /// Events published in all.
    pub publishes: u64,
    pub first_publish: Instant,
    pub window: Window,
    pub rss_before_kb: u64,
    pub rss_after_kb: u64,
    pub publish_failures: u64,
    pub publish_late: Duration,
    pub failed_subscribers: usize,
    pub errors: usize,
    /// Live messages each instance received from Redis (empty without Redis).
    pub live_messages: Vec<u64>,
    /// The instance of each subscriber, in the tallies' order.
    pub instance_of: Vec<usize>,
    /// True when the hub was Redis, whose CPU time the window holds.
    pub redis: bool,
}

/// One server process's share of a run.
#[derive(Clone)]
pub struct Instance {
    /// Deliveries to this instance's subscribers.
    pub deliveries: u64,
    /// Its CPU time per 1,000 of its own deliveries.
    pub cpu_ms_per_1k: f64,
    pub cpu_percent: f64,
    /// Live messages it received from Redis (NaN without Redis).
    pub live_messages: f64,
}

/// The figures of one run.
#[derive(Clone)]
pub struct Figures {
    pub deliveries: u64,
    pub per_second: f64,
    /// Latencies in microseconds.
    pub p50_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
    pub lost: u64,
    pub duplicates: u64,
    /// Every server process together (all instances).
    pub cpu_ms_per_1k: f64,
    pub cpu_percent: f64,
    /// Each instance apart, in the order they were started.
    pub instances: Vec<Instance>,
    /// The CPU time of the run's Redis, every node named (NaN without Redis).
    pub redis_cpu_ms: f64,
    pub redis_ms_per_1k_publishes: f64,
    pub kb_per_conn: f64,
    pub connect_p99_us: u32,
    pub connect_max_us: u32,
    /// Others' CPU use during the window (percent of one core), when it disturbed the run,
    /// and the busiest of them.
    pub disturbed: Option<(f64, String)>,
    pub own_cpu_percent: f64,
    /// This benchmark's own CPU time per delivery, in microseconds.
    pub own_us_per_delivery: f64,
    pub reconnects: u64,
    pub strays: u64,
    pub publish_failures: u64,
    /// Seconds the last publish went out after its schedule.
    pub publish_late_s: f64,
    pub failed_subscribers: usize,
    pub errors: usize,
    /// How many times this run was repeated because it was disturbed.
    pub repeats: u32,
}

/// The nearest-rank percentile `p` (0 to 100) of sorted values, 0 when there are none.
fn rank(sorted: &[u32], p: f64) -> u32 {
    percentile(sorted, p).unwrap_or(0)
}

pub fn figures(tallies: Vec<Tally>, r: &Readings) -> Figures {
    let deliveries: u64 = tallies.iter().map(|t| t.deliveries).sum();
    let distinct: u64 = tallies.iter().map(Tally::distinct).sum();
    let last = tallies.iter().filter_map(|t| t.last_delivery).max();
    let span = last.map_or(0.0, |l| {
        l.saturating_duration_since(r.first_publish).as_secs_f64()
    });
    let per_second = if span > 0.0 {
        deliveries as f64 / span
    } else {
        0.0
    };
    let mut connects: Vec<u32> = tallies.iter().filter_map(|t| t.connect_us).collect();
    connects.sort_unstable();
    let reconnects = tallies.iter().map(|t| t.reconnects).sum();
    let duplicates = tallies.iter().map(|t| t.duplicates).sum();
    let strays = tallies.iter().map(|t| t.strays).sum();
    let instances = instances(&tallies, r);
    let mut latencies = Vec::with_capacity(usize::try_from(deliveries).unwrap_or(0));
    for tally in tallies {
        latencies.extend_from_slice(&tally.latencies);
    }
    latencies.sort_unstable();
    let server_ms = ticks_to_ms(r.window.server_ticks);
    let thousands = deliveries as f64 / 1000.0;
    let redis_cpu_ms = if r.redis { r.window.redis_ms } else { f64::NAN };
    let rss_growth = r.rss_after_kb as f64 - r.rss_before_kb as f64;
    Figures {
        deliveries,
        per_second,
        p50_us: rank(&latencies, 50.0),
        p99_us: rank(&latencies, 99.0),
        max_us: latencies.last().copied().unwrap_or(0),
        lost: (r.subscribers as u64 * r.events).saturating_sub(distinct),
        duplicates,
        cpu_ms_per_1k: if thousands > 0.0 {
            server_ms / thousands
        } else {
            f64::NAN
        },
        cpu_percent: percent_of_core(r.window.server_ticks, r.window.seconds),
        instances,
        redis_cpu_ms,
        redis_ms_per_1k_publishes: redis_cpu_ms * 1000.0 / r.publishes.max(1) as f64,
        kb_per_conn: rss_growth / r.subscribers.max(1) as f64,
        connect_p99_us: rank(&connects, 99.0),
        connect_max_us: connects.last().copied().unwrap_or(0),
        disturbed: r
            .window
            .disturbed()
            .then(|| (r.window.others_percent, r.window.busiest.clone())),
        own_cpu_percent: percent_of_core(r.window.own_ticks, r.window.seconds),
        own_us_per_delivery: ticks_to_ms(r.window.own_ticks) * 1000.0 / deliveries.max(1) as f64,
        reconnects,
        strays,
        publish_failures: r.publish_failures,
        publish_late_s: r.publish_late.as_secs_f64(),
        failed_subscribers: r.failed_subscribers,
        errors: r.errors,
        repeats: 0,
    }
}

/// Each instance's deliveries, CPU time and live messages.
fn instances(tallies: &[Tally], r: &Readings) -> Vec<Instance> {
    r.window
        .per_server
        .iter()
        .enumerate()
        .map(|(i, &ticks)| {
            let deliveries: u64 = tallies
                .iter()
                .zip(&r.instance_of)
                .filter(|(_, on)| **on == i)
                .map(|(t, _)| t.deliveries)
                .sum();
            let live = r.live_messages.get(i).map_or(f64::NAN, |&m| m as f64);
            Instance {
                deliveries,
                cpu_ms_per_1k: if deliveries > 0 {
                    ticks_to_ms(ticks) * 1000.0 / deliveries as f64
                } else {
                    f64::NAN
                },
                cpu_percent: percent_of_core(ticks, r.window.seconds),
                live_messages: live,
            }
        })
        .collect()
}
