//! The one loop behind every live transport: streams, held polls and the WebSocket.
//!
//! A [`Pump`] waits on four things at once: the subscription (several events at a time when
//! the client is behind, so they go out in one write), a timer (heartbeats, pings or the
//! long-poll probe), an optional deadline (the long-poll cap) and Rocket's shutdown. Every
//! way a connection can end maps to one [`End`], which names it in frames, closes and logs.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rocket::Shutdown;
use tokio::time::{Instant, Interval, Sleep, interval_at};

use crate::hub::{Event, EventId, Subscription, SubscriptionEnd};

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
    /// The client closed the connection.
    Client,
    /// A held poll reached the server's cap with nothing to say.
    Cap,
}

impl End {
    /// The word that names this end in `end` frames and logs.
    pub fn reason(self) -> &'static str {
        match self {
            End::Shutdown => "shutdown",
            End::Lagged => "lagged",
            End::Budget => "budget",
            End::WriteTimeout => "write_timeout",
            End::Client => "client",
            End::Cap => "cap",
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

/// A subscription with its timer, deadline and shutdown signal.
pub struct Pump {
    subscription: Subscription,
    batch: Vec<Arc<Event>>,
    beat: Interval,
    cap: Option<Pin<Box<Sleep>>>,
    shutdown: Pin<Box<Shutdown>>,
    write_timeout: Duration,
    handed: Instant,
}

impl Pump {
    /// A pump whose timer fires after every `beat` without events; `write_timeout` is the
    /// longest the caller may take to write one step out before the next is asked for.
    pub fn new(
        subscription: Subscription,
        beat: Duration,
        write_timeout: Duration,
        shutdown: Shutdown,
    ) -> Pump {
        Pump {
            subscription,
            batch: Vec::new(),
            beat: interval_at(Instant::now() + beat, beat),
            cap: None,
            shutdown: Box::pin(shutdown),
            write_timeout,
            handed: Instant::now(),
        }
    }

    /// Ends the pump with [`End::Cap`] once `cap` has passed.
    pub fn with_cap(mut self, cap: Duration) -> Pump {
        self.cap = Some(Box::pin(tokio::time::sleep(cap)));
        self
    }

    /// True when the subscription's cursor could not be honoured.
    pub fn reset(&self) -> bool {
        self.subscription.reset()
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
        // The caller asks again only once the last step is written: a long gap means a client
        // that stopped reading (a socket-level timeout usually ends it first).
        if self.handed.elapsed() > self.write_timeout {
            return Step::End(End::WriteTimeout);
        }
        let cap = self.cap.as_mut();
        let cap = async move {
            match cap {
                Some(cap) => cap.await,
                None => std::future::pending().await,
            }
        };
        let happened = tokio::select! {
            biased;
            _ = &mut self.shutdown => Err(End::Shutdown),
            got = self.subscription.next_batch(&mut self.batch, max_bytes) => match got {
                Ok(()) => Ok(true),
                Err(SubscriptionEnd::Lagged) => Err(End::Lagged),
                Err(SubscriptionEnd::Closed) => Err(End::Shutdown),
            },
            _ = self.beat.tick() => Ok(false),
            () = cap => Err(End::Cap),
        };
        self.handed = Instant::now();
        match happened {
            Ok(true) => {
                self.beat.reset();
                Step::Events(&self.batch)
            }
            Ok(false) => Step::Beat,
            Err(end) => Step::End(end),
        }
    }
}
