//! What one request or held connection adds to its transport's metrics. A [`Meter`] is made
//! by the transport's guard, for the technique its route names, and carried by the handler or the pump; each
//! count is one relaxed atomic add on a counter prepared at launch, never a lock or a map
//! lookup per delivery. With metrics off a meter counts nothing.

use std::sync::Arc;

use super::TransportMetrics;
use crate::hub::{Event, ResetReason};

/// Why a held connection ended, as `reverse_ajax_disconnects_total` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnect {
    Lagged,
    Budget,
    Shutdown,
    WriteTimeout,
    Client,
    TokenExpired,
}

impl Disconnect {
    pub const ALL: [Disconnect; 6] = [
        Disconnect::Lagged,
        Disconnect::Budget,
        Disconnect::Shutdown,
        Disconnect::WriteTimeout,
        Disconnect::Client,
        Disconnect::TokenExpired,
    ];

    pub fn reason(self) -> &'static str {
        match self {
            Disconnect::Lagged => "lagged",
            Disconnect::Budget => "budget",
            Disconnect::Shutdown => "shutdown",
            Disconnect::WriteTimeout => "write_timeout",
            Disconnect::Client => "client",
            Disconnect::TokenExpired => "token_expired",
        }
    }
}

/// How a held connection is going to end, as far as its meter knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Nothing said yet: if the meter is dropped like this, the client went away.
    Open,
    /// It answered as it should (a long poll's batch, or its cap).
    Answered,
    /// It was cut off.
    Cut(Disconnect),
}

/// One request's or connection's counts.
#[derive(Debug)]
pub struct Meter {
    of: Option<Arc<TransportMetrics>>,
    held: bool,
    delivered: u64,
    ending: Ending,
}

impl Meter {
    /// A meter that counts nothing.
    pub fn off() -> Meter {
        Meter {
            of: None,
            held: false,
            delivered: 0,
            ending: Ending::Open,
        }
    }

    /// The meter of a request answered at once (polling, JSONP polling, piggyback).
    pub fn brief(of: Option<Arc<TransportMetrics>>) -> Meter {
        Meter { of, ..Meter::off() }
    }

    /// The meter of a held connection: counted as one request and one open connection until
    /// the meter is dropped.
    pub fn held(of: Option<Arc<TransportMetrics>>) -> Meter {
        if let Some(m) = &of {
            m.requests.inc();
            m.open.inc();
        }
        Meter {
            of,
            held: true,
            ..Meter::off()
        }
    }

    /// A brief answer: one request carrying `events` (none: an empty answer) in `bytes`,
    /// after a reset when `reset` gives its reason.
    pub fn answer(&mut self, events: &[Arc<Event>], reset: Option<ResetReason>, bytes: usize) {
        if let Some(m) = &self.of {
            m.requests.inc();
            if events.is_empty() {
                m.empty.inc();
            }
        }
        if reset.is_some() {
            self.reset();
        }
        self.delivered(events);
        self.sent(bytes);
    }

    /// The cursor could not be honoured.
    pub fn reset(&self) {
        if let Some(m) = &self.of {
            m.resets.inc();
        }
    }

    /// `events` are being written; their latency runs from their publish to now.
    pub fn delivered(&mut self, events: &[Arc<Event>]) {
        let Some(m) = &self.of else { return };
        self.delivered += events.len() as u64;
        m.delivered.add(events.len() as u64);
        m.latency.observe(events.iter().map(|e| e.born()));
    }

    /// `bytes` of body were written.
    pub fn sent(&self, bytes: usize) {
        if let Some(m) = &self.of {
            m.bytes.add(bytes as u64);
        }
    }

    /// The connection answered as it should; its end is not a disconnect.
    pub fn answered(&mut self) {
        self.ending = Ending::Answered;
    }

    /// The connection is being cut off for `why`.
    pub fn cut(&mut self, why: Disconnect) {
        self.ending = Ending::Cut(why);
    }

    /// The connection went away for `why`, unless it had already answered or been cut.
    pub fn gone(&mut self, why: Disconnect) {
        if self.ending == Ending::Open {
            self.ending = Ending::Cut(why);
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        let Some(m) = self.of.as_ref().filter(|_| self.held) else {
            return;
        };
        m.open.dec();
        if self.delivered == 0 {
            m.empty.inc();
        }
        let why = match self.ending {
            Ending::Answered => return,
            Ending::Open => Disconnect::Client,
            Ending::Cut(why) => why,
        };
        m.disconnects[why as usize].inc();
    }
}
