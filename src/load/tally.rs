//! What one client received: a bitmap of the sequence numbers it has, its counts, the
//! latency of each first delivery and its connect time. Each client task owns its tally and
//! hands it back at the end of the run, so nothing is shared while events flow (but a
//! counter of the clients that have every event, which the benchmark waits on).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::frame::{Batch, Event};

/// When some bytes arrived: wall-clock time for latency, monotonic time for rates.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    /// Nanoseconds since the UNIX epoch.
    pub wall_ns: u64,
    pub at: Instant,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp {
            wall_ns: wall_ns(),
            at: Instant::now(),
        }
    }
}

/// Nanoseconds since the UNIX epoch, now.
pub fn wall_ns() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH);
    since.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[derive(Debug)]
pub struct Tally {
    /// Events the run publishes at most; sequence numbers run from 1 to this.
    total: u64,
    seen: Vec<u64>,
    distinct: u64,
    /// Events of ours received, duplicates included.
    pub deliveries: u64,
    pub duplicates: u64,
    /// Events whose sequence number is outside 1..=total.
    pub strays: u64,
    /// Publish-to-arrival time of each first delivery, in µs, in arrival order.
    pub latencies: Vec<u32>,
    pub last_delivery: Option<Instant>,
    /// Requests sent: polls, stream and WebSocket openings, reconnections included.
    pub requests: u64,
    /// Poll, long-poll and form answers that brought nothing new.
    pub empty: u64,
    pub resets: u64,
    /// Microseconds from the start of the first connect() to the response head (101 for a
    /// WebSocket; the request written for a long poll).
    pub connect_us: Option<u32>,
    /// Connections opened after the first one.
    pub reconnects: u64,
    /// Counts the clients that have every event, when someone waits for that.
    complete: Option<Arc<AtomicUsize>>,
}

impl Tally {
    pub fn new(total: u64) -> Tally {
        Tally {
            total,
            seen: vec![0; usize::try_from(total.div_ceil(64)).unwrap_or(0)],
            distinct: 0,
            deliveries: 0,
            duplicates: 0,
            strays: 0,
            latencies: Vec::with_capacity(usize::try_from(total).unwrap_or(0).min(1 << 16)),
            last_delivery: None,
            requests: 0,
            empty: 0,
            resets: 0,
            connect_us: None,
            reconnects: 0,
            complete: None,
        }
    }

    /// Adds one to `complete` once this client has every event.
    pub fn counting_complete(mut self, complete: Arc<AtomicUsize>) -> Tally {
        self.complete = Some(complete);
        self
    }

    /// Distinct sequence numbers received.
    pub fn distinct(&self) -> u64 {
        self.distinct
    }

    /// Records a poll's batch (`{"events","next","reset"}`) that arrived at `stamp`: its reset,
    /// its events, an answer with nothing new, and the cursor moved to its `next`.
    pub fn batch(&mut self, json: &[u8], since: &mut String, stamp: Stamp) -> Result<(), String> {
        let batch = Batch::parse(json)?;
        if batch.reset {
            self.resets += 1;
        }
        let mut fresh = 0;
        for event in batch.events() {
            fresh += usize::from(self.event(&event?, stamp));
        }
        if fresh == 0 {
            self.empty += 1;
        }
        if let Some(next) = batch.next {
            *since = next;
        }
        Ok(())
    }

    /// Records an event as it arrives at `stamp`; returns whether it was new to this client.
    /// An event without the publisher's stamp is someone else's and is not counted.
    pub fn event(&mut self, event: &Event<'_>, stamp: Stamp) -> bool {
        let Some((seq, ts_ns)) = event.stamp else {
            return false;
        };
        if seq == 0 || seq > self.total {
            self.strays += 1;
            return false;
        }
        self.deliveries += 1;
        self.last_delivery = Some(stamp.at);
        let (word, bit) = (((seq - 1) / 64) as usize, (seq - 1) % 64);
        if self.seen[word] & (1 << bit) != 0 {
            self.duplicates += 1;
            return false;
        }
        self.seen[word] |= 1 << bit;
        self.distinct += 1;
        let latency_us = stamp.wall_ns.saturating_sub(ts_ns) / 1000;
        self.latencies
            .push(u32::try_from(latency_us).unwrap_or(u32::MAX));
        if self.distinct == self.total
            && let Some(complete) = &self.complete
        {
            complete.fetch_add(1, Ordering::Relaxed);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64) -> Event<'static> {
        Event {
            id: None,
            stamp: Some((seq, 0)),
        }
    }

    #[test]
    fn a_tally_counts_duplicates_strays_and_completion() {
        let complete = Arc::new(AtomicUsize::new(0));
        let mut tally = Tally::new(2).counting_complete(Arc::clone(&complete));
        let stamp = Stamp::now();
        assert!(tally.event(&event(1), stamp));
        assert!(!tally.event(&event(1), stamp));
        assert!(!tally.event(&event(3), stamp));
        assert!(!tally.event(
            &Event {
                id: None,
                stamp: None
            },
            stamp
        ));
        assert_eq!(complete.load(Ordering::Relaxed), 0);
        assert!(tally.event(&event(2), stamp));
        assert_eq!(complete.load(Ordering::Relaxed), 1);
        assert_eq!(
            (tally.distinct(), tally.duplicates, tally.strays),
            (2, 1, 1)
        );
        assert_eq!((tally.deliveries, tally.latencies.len()), (3, 2));
    }
}
