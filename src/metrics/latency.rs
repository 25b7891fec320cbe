//! A latency histogram that counts without a lock: per event one add to its bucket, per
//! batch one add to the sum, each on this thread's own line ([`Lines`]); the count is the
//! buckets' sum. prometheus-client's own `Histogram` takes a mutex per observation, which
//! would be a lock per delivery on the fan-out's path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::tally::Lines;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds of the buckets, in seconds; one more bucket takes everything above.
const BOUNDS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Default)]
struct Counts {
    buckets: [Lines; BOUNDS.len() + 1],
    sum_micros: Lines,
}

/// Publish-to-written latency of one transport (clones share the counts).
#[derive(Debug, Clone, Default)]
pub struct Latency(Arc<Counts>);

impl Latency {
    /// Counts the latency of events born at `births`, as of now.
    pub fn observe(&self, births: impl Iterator<Item = Instant>) {
        let now = Instant::now();
        let mut sum = Duration::ZERO;
        for born in births {
            let latency = now.saturating_duration_since(born);
            sum += latency;
            let seconds = latency.as_secs_f64();
            let bucket = BOUNDS
                .iter()
                .position(|&bound| seconds <= bound)
                .unwrap_or(BOUNDS.len());
            self.0.buckets[bucket].add(1);
        }
        self.0
            .sum_micros
            .add(u64::try_from(sum.as_micros()).unwrap_or(u64::MAX));
    }
}

impl TypedMetric for Latency {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Latency {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let counts = &self.0;
        let buckets: Vec<(f64, u64)> = BOUNDS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(&counts.buckets)
            .map(|(bound, n)| (bound, n.sum()))
            .collect();
        // Each bucket is read once, so the count is their sum, whatever lands meanwhile.
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = counts.sum_micros.sum() as f64 / 1e6;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
