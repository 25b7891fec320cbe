//! The events of a diagnosis: its own channel, fed on a steady beat with the server's time,
//! so the page can tell each event's latency and whether they arrive one by one or in clumps.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::seq::SliceRandom;
use rocket::Shutdown;

use super::{FEED_FOR, FEED_MS};
use crate::hub::{Channel, Hub, Payload};

/// The characters after `doctor-`.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh channel, `doctor-<12 random [a-z0-9]>`.
pub fn channel() -> Channel {
    let mut random = rand::thread_rng();
    let rest: String = (0..12)
        .filter_map(|_| ALPHABET.choose(&mut random).copied().map(char::from))
        .collect();
    Channel::parse(&format!("doctor-{rest}"))
        .unwrap_or_else(|_| unreachable!("`doctor-` and [a-z0-9] make a valid channel name"))
}

/// One of the diagnoses that may be fed at once; the place frees when dropped.
pub struct Seat(Arc<AtomicUsize>);

impl Seat {
    /// A place among `max`, if one is free.
    pub fn take(running: &Arc<AtomicUsize>, max: usize) -> Option<Seat> {
        running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Seat(Arc::clone(running)))
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The data of the `n`th event: its number and the server's time now, in Unix ms.
pub fn stamp(n: u64) -> Payload {
    let now = chrono::Utc::now().timestamp_millis();
    let json = format!("{{\"n\":{n},\"sent_ms\":{now}}}");
    Payload::from_json(json.as_bytes())
        .unwrap_or_else(|_| unreachable!("two numbers in an object are valid JSON"))
}

/// Publishes a stamped event on `channel` every [`FEED_MS`] for [`FEED_FOR`], or until the
/// server shuts down; holds `seat` meanwhile.
pub async fn run(hub: &Hub, channel: &Channel, seat: Seat, shutdown: Shutdown) {
    let _seat = seat;
    let until = tokio::time::Instant::now() + FEED_FOR;
    let mut beat = tokio::time::interval(Duration::from_millis(FEED_MS));
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    for n in 1.. {
        tokio::select! {
            _ = beat.tick() => {}
            () = &mut shutdown => return,
        }
        if tokio::time::Instant::now() >= until {
            return;
        }
        if let Err(error) = hub.publish(channel, stamp(n)).await {
            rocket::warn!("the doctor could not publish on `{channel}`: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_fresh_and_seats_are_counted() {
        assert_ne!(channel(), channel());
        assert!(channel().as_str().starts_with("doctor-"));
        let running = Arc::new(AtomicUsize::new(0));
        let first = Seat::take(&running, 1);
        assert!(first.is_some());
        assert!(Seat::take(&running, 1).is_none());
        drop(first);
        assert!(Seat::take(&running, 1).is_some());
        assert!(stamp(3).as_str().starts_with("{\"n\":3,\"sent_ms\":"));
    }
}
