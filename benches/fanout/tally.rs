//! What one subscriber received: a bitmap of the sequence numbers it has, its counts, its
//! latencies and its connect time. Each subscriber task owns its tally and hands it back at
//! the end of the run, so nothing is shared while events flow.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::conn::Stamp;

pub struct Tally {
    /// Events published in this run; sequence numbers run from 1 to this.
    total: u64,
    seen: Vec<u64>,
    distinct: u64,
    pub deliveries: u64,
    pub duplicates: u64,
    /// Events whose sequence number is outside 1..=total.
    pub strays: u64,
    /// Delivery latencies in microseconds, in arrival order.
    pub latencies: Vec<u32>,
    pub last_delivery: Option<Instant>,
    /// Microseconds from the start of connect() to the response head (101 for WebSocket).
    pub connect_us: Option<u32>,
    pub reconnects: u64,
    /// Counts the subscribers that have every event.
    complete: Arc<AtomicUsize>,
}

impl Tally {
    pub fn new(total: u64, complete: Arc<AtomicUsize>) -> Tally {
        Tally {
            total,
            seen: vec![0; usize::try_from(total.div_ceil(64)).unwrap_or(0)],
            distinct: 0,
            deliveries: 0,
            duplicates: 0,
            strays: 0,
            latencies: Vec::with_capacity(usize::try_from(total).unwrap_or(0)),
            last_delivery: None,
            connect_us: None,
            reconnects: 0,
            complete,
        }
    }

    /// Distinct sequence numbers received.
    pub fn distinct(&self) -> u64 {
        self.distinct
    }

    /// One event, with the send time `ts_ns` from its payload, received at `stamp`.
    pub fn record(&mut self, seq: u64, ts_ns: u64, stamp: Stamp) {
        if seq == 0 || seq > self.total {
            self.strays += 1;
            return;
        }
        self.deliveries += 1;
        let latency_us = stamp.wall_ns.saturating_sub(ts_ns) / 1000;
        self.latencies
            .push(u32::try_from(latency_us).unwrap_or(u32::MAX));
        self.last_delivery = Some(stamp.at);
        let (word, bit) = (((seq - 1) / 64) as usize, (seq - 1) % 64);
        if self.seen[word] & (1 << bit) != 0 {
            self.duplicates += 1;
            return;
        }
        self.seen[word] |= 1 << bit;
        self.distinct += 1;
        if self.distinct == self.total {
            self.complete.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Finds `"seq":N` and `"ts":T` in one event's bytes and records it. Returns false when
    /// the bytes hold no event.
    pub fn record_scan(&mut self, bytes: &[u8], stamp: Stamp) -> bool {
        match (
            number_after(bytes, b"\"seq\":"),
            number_after(bytes, b"\"ts\":"),
        ) {
            (Some(seq), Some(ts)) => {
                self.record(seq, ts, stamp);
                true
            }
            _ => false,
        }
    }
}

/// The whole number right after the first `key` in `bytes`.
pub fn number_after(bytes: &[u8], key: &[u8]) -> Option<u64> {
    let at = crate::http::find(bytes, key)? + key.len();
    let digits = bytes[at..].iter().take_while(|b| b.is_ascii_digit());
    let mut value: u64 = 0;
    let mut any = false;
    for &d in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

/// The string right after the first `key` (which ends with the opening quote), up to the
/// closing quote. Event ids never hold escapes.
pub fn string_after<'a>(bytes: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = crate::http::find(bytes, key)? + key.len();
    let len = bytes[at..].iter().position(|&b| b == b'"')?;
    Some(&bytes[at..at + len])
}
