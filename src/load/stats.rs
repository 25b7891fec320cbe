//! Latency percentiles: nearest rank over every first delivery of every client.

use serde::Serialize;

/// Publish-to-arrival latency in milliseconds; `null` in JSON when no event arrived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl Latency {
    /// The percentiles of `micros` (sorted here), in ms rounded to 0.1.
    pub fn of(micros: &mut [u32]) -> Latency {
        micros.sort_unstable();
        let ms = |p| percentile(micros, p).map(|us| (f64::from(us) / 100.0).round() / 10.0);
        Latency {
            p50: ms(50.0),
            p95: ms(95.0),
            p99: ms(99.0),
        }
    }
}

/// The nearest-rank percentile `p` (0 to 100) of sorted values: the smallest value that at
/// least p % of the values do not exceed.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 95.0), Some(95));
        assert_eq!(percentile(&values, 99.0), Some(99));
        assert_eq!(percentile(&values, 100.0), Some(100));
        assert_eq!(percentile(&values, 0.0), Some(1));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile::<u64>(&[], 50.0), None);
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
    }

    #[test]
    fn latency_is_in_milliseconds_and_null_without_events() {
        let mut micros = vec![3_000, 1_000, 2_000, 250_049];
        let latency = Latency::of(&mut micros);
        assert_eq!(latency.p50, Some(2.0));
        assert_eq!(latency.p99, Some(250.0));
        assert_eq!(Latency::of(&mut []), Latency::default());
        let json = serde_json::to_string(&Latency::default()).unwrap();
        assert_eq!(json, r#"{"p50":null,"p95":null,"p99":null}"#);
    }
}
