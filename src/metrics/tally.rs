//! A counter for the delivery path: split into one cache line per thread, so that the
//! runtime's workers adding to it at once never pass the line between their cores. Adding
//! is one uncontended relaxed atomic add; reading (a scrape) sums the lines.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::exemplar::Exemplar;
use prometheus_client::metrics::{MetricType, TypedMetric};

/// How many lines a tally has; threads past this many share them, which stays correct.
const LINES: usize = 8;

#[derive(Debug, Default)]
#[repr(align(64))]
struct Line(AtomicU64);

/// Per-thread lines of one count.
#[derive(Debug, Default)]
pub struct Lines([Line; LINES]);

impl Lines {
    pub fn add(&self, n: u64) {
        self.0[line()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sum(&self) -> u64 {
        self.0.iter().map(|l| l.0.load(Ordering::Relaxed)).sum()
    }
}

/// This thread's line, handed out in turn to threads as they first count.
fn line() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % LINES;
    }
    MINE.with(|mine| *mine)
}

/// A Prometheus counter made of [`Lines`] (clones share them).
#[derive(Debug, Clone, Default)]
pub struct Tally(Arc<Lines>);

impl Tally {
    pub fn add(&self, n: u64) {
        self.0.add(n);
    }

    pub fn get(&self) -> u64 {
        self.0.sum()
    }
}

impl TypedMetric for Tally {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for Tally {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder
            .encode_counter::<NoLabelSet, _, u64>(&self.get(), None::<&Exemplar<NoLabelSet, u64>>)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
