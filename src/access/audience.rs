//! Who listens where: for each channel, when it was last read and how many held connections
//! (streams, long polls, WebSockets) are open on it. The access guards record it for every
//! transport ([`super::Reader`] on each read, [`super::Listener`] with a [`Presence`] kept
//! beside the connection's slot), so a feature that works for listeners, like the visitors'
//! event patterns, can stop when nobody is there.
//!
//! Memory stays bounded: a channel with open connections has an entry for as long as they
//! are open (at most `[clients] held_max` of them), and an entry without any is dropped once
//! it has been quiet for the audience's `forget_after`. Reads of new channels are not
//! recorded while [`MAX_CHANNELS`] entries are kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::hub::Channel;

/// The most channels remembered at once only because they were read.
pub const MAX_CHANNELS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The last read, or when the last held connection closed.
    last: Instant,
    /// Open held connections.
    held: u32,
}

#[derive(Debug)]
struct Shared {
    channels: Mutex<HashMap<Channel, Seen>>,
    forget_after: Duration,
}

/// The listeners of every channel (cheap to clone).
#[derive(Debug, Clone)]
pub struct Audience(Arc<Shared>);

/// How a channel is listened to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quiet {
    /// At least one held connection is open on it.
    Listened,
    /// Nobody holds a connection; the last read or close was at this instant.
    Since(Instant),
    /// Nothing is known of it (never read, or forgotten).
    Unknown,
}

/// One held connection on a channel, counted until dropped.
#[derive(Debug)]
pub struct Presence {
    audience: Audience,
    channel: Channel,
}

impl Audience {
    /// An audience that forgets a quiet channel after `forget_after`.
    pub fn new(forget_after: Duration) -> Audience {
        Audience(Arc::new(Shared {
            channels: Mutex::new(HashMap::new()),
            forget_after,
        }))
    }

    fn channels(&self) -> MutexGuard<'_, HashMap<Channel, Seen>> {
        // A panic elsewhere cannot leave a count half-written: every change is one store.
        self.0
            .channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a read of `channel` now.
    pub fn heard(&self, channel: &Channel) {
        let now = Instant::now();
        let mut channels = self.channels();
        if let Some(seen) = channels.get_mut(channel) {
            seen.last = now;
            return;
        }
        if channels.len() >= MAX_CHANNELS {
            self.forget_quiet(&mut channels, now);
            if channels.len() >= MAX_CHANNELS {
                return;
            }
        }
        channels.insert(channel.clone(), Seen { last: now, held: 0 });
    }

    /// Counts a held connection on `channel` until the presence is dropped.
    pub fn presence(&self, channel: &Channel) -> Presence {
        let now = Instant::now();
        self.channels()
            .entry(channel.clone())
            .and_modify(|seen| seen.held += 1)
            .or_insert(Seen { last: now, held: 1 });
        Presence {
            audience: self.clone(),
            channel: channel.clone(),
        }
    }

    /// How `channel` is listened to now.
    pub fn quiet(&self, channel: &Channel) -> Quiet {
        match self.channels().get(channel) {
            Some(seen) if seen.held > 0 => Quiet::Listened,
            Some(seen) => Quiet::Since(seen.last),
            None => Quiet::Unknown,
        }
    }

    /// Completes once nobody has listened to `channel` for `idle`: no held connection open
    /// and no read for that long. Checks again at least every `idle` while someone holds one.
    pub async fn gone(&self, channel: &Channel, idle: Duration) {
        while let Some(at) = wake(self.quiet(channel), Instant::now(), idle) {
            tokio::time::sleep_until(at).await;
        }
    }

    /// The channels listened to within `within`, each with how long ago (zero while a held
    /// connection is open).
    pub fn recent(&self, within: Duration) -> Vec<(Channel, Duration)> {
        let now = Instant::now();
        self.channels()
            .iter()
            .filter_map(|(channel, seen)| {
                let ago = if seen.held > 0 {
                    Duration::ZERO
                } else {
                    now.duration_since(seen.last)
                };
                (ago < within).then(|| (channel.clone(), ago))
            })
            .collect()
    }

    /// Drops the entries of channels nobody holds that have been quiet for `forget_after`.
    pub fn sweep(&self) {
        let now = Instant::now();
        self.forget_quiet(&mut self.channels(), now);
    }

    /// How many channels are remembered.
    pub fn len(&self) -> usize {
        self.channels().len()
    }

    /// True when no channel is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn forget_quiet(&self, channels: &mut HashMap<Channel, Seen>, now: Instant) {
        let keep = self.0.forget_after;
        channels.retain(|_, seen| seen.held > 0 || now.duration_since(seen.last) < keep);
    }
}

/// When a wait for `idle` without listeners should look again, or `None` if it is over.
fn wake(quiet: Quiet, now: Instant, idle: Duration) -> Option<Instant> {
    match quiet {
        Quiet::Listened => Some(now + idle),
        Quiet::Since(last) if now.duration_since(last) < idle => Some(last + idle),
        Quiet::Since(_) | Quiet::Unknown => None,
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        let now = Instant::now();
        if let Some(seen) = self.audience.channels().get_mut(&self.channel) {
            seen.held = seen.held.saturating_sub(1);
            seen.last = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(name: &str) -> Channel {
        Channel::parse(name).expect("a valid name")
    }

    #[test]
    fn a_channel_is_quiet_from_its_last_read_or_close() {
        let audience = Audience::new(Duration::from_secs(60));
        let ch = channel("demo-abcdef");
        assert_eq!(audience.quiet(&ch), Quiet::Unknown);

        let before = Instant::now();
        audience.heard(&ch);
        assert!(matches!(audience.quiet(&ch), Quiet::Since(t) if t >= before));

        let first = audience.presence(&ch);
        let second = audience.presence(&ch);
        drop(first);
        assert_eq!(audience.quiet(&ch), Quiet::Listened, "one is still open");
        let closing = Instant::now();
        drop(second);
        assert!(matches!(audience.quiet(&ch), Quiet::Since(t) if t >= closing));
    }

    #[test]
    fn the_wait_ends_idle_after_the_last_listener() {
        let idle = Duration::from_secs(10);
        let now = Instant::now();
        let ago = |s| {
            now.checked_sub(Duration::from_secs(s))
                .expect("a past instant")
        };
        assert_eq!(wake(Quiet::Listened, now, idle), Some(now + idle));
        assert_eq!(wake(Quiet::Since(ago(4)), now, idle), Some(ago(4) + idle));
        assert_eq!(wake(Quiet::Since(ago(10)), now, idle), None);
        assert_eq!(wake(Quiet::Unknown, now, idle), None);
    }

    #[test]
    fn recent_lists_held_channels_and_fresh_reads_only() {
        let audience = Audience::new(Duration::from_secs(60));
        let (read, held) = (channel("demo-aaaaaa"), channel("demo-bbbbbb"));
        audience.heard(&read);
        let _presence = audience.presence(&held);

        let mut recent = audience.recent(Duration::from_secs(60));
        recent.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));

        assert_eq!(recent.len(), 2);
        assert!(recent[0].1 < Duration::from_secs(60), "a fresh read");
        assert_eq!(recent[1], (held, Duration::ZERO), "a held connection");
        assert_eq!(
            audience.recent(Duration::ZERO),
            Vec::new(),
            "nothing is that recent"
        );
    }

    #[test]
    fn quiet_channels_are_forgotten_and_held_ones_kept() {
        let audience = Audience::new(Duration::ZERO);
        let (read, held) = (channel("demo-aaaaaa"), channel("demo-bbbbbb"));
        audience.heard(&read);
        let _presence = audience.presence(&held);

        audience.sweep();

        assert_eq!(audience.quiet(&read), Quiet::Unknown);
        assert_eq!(audience.quiet(&held), Quiet::Listened);
        assert_eq!(audience.len(), 1);
    }
}
