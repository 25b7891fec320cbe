//! The one loop behind every live transport: streams, held polls and the WebSocket.
//!
//! A [`Pump`] waits on three things at once: the subscription (several events at a time when
//! the client is behind, so they go out in one write; its end when the hub closes at
//! shutdown), a timer (heartbeats, pings or the long-poll probe) and an optional deadline (the
//! long-poll cap). Every way a connection can end maps to one [`End`], which names it in
//! frames, closes and logs.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep, interval_at};

use super::guard::Place;
use crate::access::slots::Slot;
use crate::hub::{Event, EventId, ResetReason, Subscription, SubscriptionEnd};
use crate::metrics::{Disconnect, Meter};

/// About how many bytes of events one step hands over at most; a client further behind gets
/// the rest in the next steps, right away.
pub const BATCH_BYTES: usize = 32 * 1024;

/// Why a live connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The server is shutting down; the client should come back later.
    Shutdown,
    /// The client fell behind (or the channel's history was replaced); it should resume from
    /// its cursor.
    Lagged,
    /// The stream sent its byte budget; the client should resume from its cursor.
    Budget,
    /// A write to the client did not complete within `push.write_timeout_ms`.
    WriteTimeout,
    /// A held poll reached the server's cap with nothing to say.
    Cap,
    /// The token the connection was admitted with stopped counting (`exp` plus the leeway).
    TokenExpired,
}

impl End {
    /// How the metrics count this end; `None` for a held poll's cap, which is an answer.
    pub fn disconnect(self) -> Option<Disconnect> {
        Some(match self {
            End::Shutdown => Disconnect::Shutdown,
            End::Lagged => Disconnect::Lagged,
            End::Budget => Disconnect::Budget,
            End::WriteTimeout => Disconnect::WriteTimeout,
            End::TokenExpired => Disconnect::TokenExpired,
            End::Cap => return None,
        })
    }

    /// The word that names this end in `end` frames and logs.
    pub fn reason(self) -> &'static str {
        match self {
            End::Shutdown => "shutdown",
            End::Lagged => "lagged",
            End::Budget => "budget",
            End::WriteTimeout => "write_timeout",
            End::Cap => "cap",
            End::TokenExpired => "token_expired",
        }
    }
}

/// What happened next on a connection.
pub enum Step<'a> {
    /// Events after the cursor, oldest first (at least one).
    Events(&'a [Arc<Event>]),
    /// The timer fired with nothing else to do.
    Beat,
    /// The connection should end.
    End(End),
}

/// A moment at which the connection ends, and how.
struct Deadline {
    at: Pin<Box<Sleep>>,
    end: End,
}

/// A subscription with its timer and deadline.
///
/// Nothing here runs per event beyond taking the events: the timer is a fixed tick that
/// skips its beat when events went out since the last one (rather than a timer reset per
/// event), and shutdown arrives through the subscription (the hub closes every feed), not
/// through a future polled at every step.
pub struct Pump {
    subscription: Subscription,
    batch: Vec<Arc<Event>>,
    beat: Interval,
    /// The timer's period.
    every: Duration,
    busy: bool,
    /// The earliest of the long-poll cap and the token's expiry.
    deadline: Option<Deadline>,
    /// The connection's place under `[clients]` limits, freed when the pump goes.
    _slot: Slot,
    /// The connection's counts, closed when the pump goes.
    meter: Meter,
    /// When the last chunk went to the writer, until the writer asks for the next step.
    handed: Option<Instant>,
    /// How long a writer may sit on a chunk before a pump dropped in that state counts the
    /// client as one that stopped reading; `None` never does.
    stuck_after: Option<Duration>,
}

impl Pump {
    /// A pump whose timer fires once `beat` has passed without events (between one and two
    /// `beat`s after the last of them), holding the connection's slot and counting on its
    /// meter while it lives, and ending with [`End::TokenExpired`] at its expiry.
    pub fn new(subscription: Subscription, beat: Duration, place: Place) -> Pump {
        let Place {
            slot,
            meter,
            expiry,
        } = place;
        if subscription.reset().is_some() {
            meter.reset();
        }
        let every = beat;
        let mut beat = interval_at(Instant::now() + beat, beat);
        beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Pump {
            subscription,
            batch: Vec::new(),
            beat,
            every,
            busy: false,
            deadline: None,
            _slot: slot,
            meter,
            handed: None,
            stuck_after: None,
        }
        .ending_at(expiry.map(until), End::TokenExpired)
    }

    /// Ends the pump with [`End::Cap`] once `cap` has passed (unless it ends earlier).
    pub fn with_cap(self, cap: Duration) -> Pump {
        self.ending_at(Some(Instant::now() + cap), End::Cap)
    }

    /// Counts the connection as cut by a write timeout when the pump is dropped while a
    /// chunk it handed out ([`Pump::handing`]) has waited at least `after` for its writer.
    ///
    /// Streams need this because Rocket writes them: when the kernel ends a connection whose
    /// client stopped reading (`TCP_USER_TIMEOUT`, see `crate::listener`), the `ETIMEDOUT`
    /// reaches hyper, never the stream, which is simply dropped. What the stream does see is
    /// that its writer stopped asking for more: a writer that takes a chunk asks for the next
    /// one as soon as the socket took it, so one that sat on a chunk for a good part of the
    /// write timeout before the connection died was blocked on a client that did not read.
    pub fn watching_writes(mut self, after: Duration) -> Pump {
        self.stuck_after = Some(after);
        self
    }

    /// A chunk goes to the writer now.
    pub fn handing(&mut self) {
        self.handed = Some(Instant::now());
    }

    /// The writer took the last chunk and asks for more.
    pub fn taken(&mut self) {
        self.handed = None;
    }

    /// Ends the pump with `end` at `at`, unless it is set to end earlier.
    fn ending_at(mut self, at: Option<Instant>, end: End) -> Pump {
        let Some(at) = at else { return self };
        if self.deadline.as_ref().is_none_or(|d| at < d.at.deadline()) {
            let at = Box::pin(tokio::time::sleep_until(at));
            self.deadline = Some(Deadline { at, end });
        }
        self
    }

    /// `bytes` of body went out to the client.
    pub fn sent(&self, bytes: usize) {
        self.meter.sent(bytes);
    }

    /// The connection ends for `end` (the pump's own ends, and a stream's budget): a cut,
    /// or for a held poll's cap an answer.
    pub fn ending(&mut self, end: End) {
        match end.disconnect() {
            Some(why) => self.meter.cut(why),
            None => self.meter.answered(),
        }
    }

    /// The connection gave its answer (a held poll); its end is not a disconnect.
    pub fn answered(&mut self) {
        self.meter.answered();
    }

    /// Why the subscription's cursor could not be honoured, when it could not.
    pub fn reset(&self) -> Option<ResetReason> {
        self.subscription.reset()
    }

    /// How often the timer fires (the heartbeat or ping interval).
    pub fn heartbeat(&self) -> Duration {
        self.every
    }

    /// The id of the last event handed out (or the starting point).
    pub fn cursor(&self) -> EventId {
        self.subscription.cursor()
    }

    /// Waits for the next step.
    pub async fn next(&mut self) -> Step<'_> {
        self.next_within(BATCH_BYTES).await
    }

    /// Waits for the next step, handing over about `max_bytes` of events at most (always at
    /// least one event).
    pub async fn next_within(&mut self, max_bytes: usize) -> Step<'_> {
        loop {
            let deadline = self.deadline.as_mut();
            let deadline = async move {
                match deadline {
                    Some(deadline) => {
                        deadline.at.as_mut().await;
                        deadline.end
                    }
                    None => std::future::pending().await,
                }
            };
            let happened = tokio::select! {
                biased;
                got = self.subscription.next_batch(&mut self.batch, max_bytes) => match got {
                    Ok(()) => Ok(true),
                    Err(SubscriptionEnd::Lagged) => Err(End::Lagged),
                    Err(SubscriptionEnd::Closed) => Err(End::Shutdown),
                },
                _ = self.beat.tick() => Ok(false),
                end = deadline => Err(end),
            };
            match happened {
                Ok(true) => {
                    self.busy = true;
                    self.meter.delivered(&self.batch);
                    return Step::Events(&self.batch);
                }
                // Events went out during this tick: the line is not idle, no beat yet.
                Ok(false) if std::mem::take(&mut self.busy) => {}
                Ok(false) => return Step::Beat,
                Err(end) => {
                    self.ending(end);
                    return Step::End(end);
                }
            }
        }
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        let stuck = self
            .handed
            .zip(self.stuck_after)
            .is_some_and(|(at, after)| at.elapsed() >= after);
        if stuck {
            self.meter.gone(Disconnect::WriteTimeout);
        }
    }
}

/// The monotonic instant of the wall-clock moment `at` (now, when it has passed).
fn until(at: SystemTime) -> Instant {
    Instant::now() + at.duration_since(SystemTime::now()).unwrap_or_default()
}
