//! The cursor rule of DESIGN.md, written once for both backends' reads and subscriptions.

use super::EventId;

/// Why a cursor could not be honoured, as `reset` frames and answers name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetReason {
    /// The cursor names a history other than the channel's current one (the server
    /// restarted, or Redis lost or rolled back the history).
    UnknownEpoch,
    /// The event after the cursor is no longer kept (too old, or pushed out by newer ones).
    Evicted,
    /// The cursor is beyond the channel's head.
    Ahead,
}

impl ResetReason {
    /// The word that names this reason on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ResetReason::UnknownEpoch => "unknown_epoch",
            ResetReason::Evicted => "evicted",
            ResetReason::Ahead => "ahead",
        }
    }
}

impl std::fmt::Display for ResetReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a reader starts on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The cursor cannot be honoured, for this reason: say `reset`, continuing after this
    /// sequence number (the event before the oldest one kept, or the head), then replay the
    /// events after it.
    Reset(ResetReason, u64),
    /// Nothing to replay: no cursor ("from now"), or the cursor is the head.
    Head,
    /// Replay the events after this sequence number, up to the head.
    After(u64),
}

/// Decides how a reader holding `since` starts on a channel whose history is `epoch`, whose
/// newest event is `head` (0 when it has none) and whose oldest replayable event is `oldest`
/// (`head + 1` when none is left).
///
/// A cursor is honoured only when it names this history, is not ahead of the head and the
/// event right after it is still kept; anything else is a reset, never a silent gap.
///
/// A reset gives the reader every event the history still holds that it may not have: a
/// cursor into another history (the server restarted, Redis lost or rolled back the history)
/// or into events no longer kept continues from the start of what is kept, so only the events
/// already lost are missed, and the reset says so. A cursor ahead of the head continues from
/// the head: it names events this history never had, so nothing here is known to follow it.
pub fn start(since: Option<&EventId>, epoch: &str, head: u64, oldest: u64) -> Start {
    let Some(since) = since else {
        return Start::Head;
    };
    let kept = oldest - 1;
    if &*since.epoch != epoch {
        Start::Reset(ResetReason::UnknownEpoch, kept)
    } else if since.seq > head {
        Start::Reset(ResetReason::Ahead, head)
    } else if since.seq == head {
        Start::Head
    } else if since.seq < kept {
        Start::Reset(ResetReason::Evicted, kept)
    } else {
        Start::After(since.seq)
    }
}

impl Start {
    /// The reason to say `reset`, if there is one.
    pub fn reset(self) -> Option<ResetReason> {
        match self {
            Start::Reset(why, _) => Some(why),
            Start::Head | Start::After(_) => None,
        }
    }

    /// The sequence number the reader continues after, on a channel whose head is `head`:
    /// the events after it are replayed.
    pub fn after(self, head: u64) -> u64 {
        match self {
            Start::Reset(_, seq) | Start::After(seq) => seq,
            Start::Head => head,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResetReason::{Ahead, Evicted, UnknownEpoch};

    #[test]
    fn the_rule_as_a_table() {
        let id = |epoch: &str, seq| Some(EventId::new(epoch, seq));
        // (cursor, head, oldest) on epoch "e" → start
        let cases = [
            (None, 0, 1, Start::Head),
            (None, 9, 5, Start::Head),
            (id("e", 0), 0, 1, Start::Head),
            (id("e", 9), 9, 5, Start::Head),
            (id("e", 4), 9, 5, Start::After(4)),
            (id("e", 6), 9, 5, Start::After(6)),
            (id("e", 0), 9, 1, Start::After(0)),
            // Older than what is kept: reset, then what is kept (5..=9, or 2..=9).
            (id("e", 3), 9, 5, Start::Reset(Evicted, 4)),
            (id("e", 0), 9, 2, Start::Reset(Evicted, 1)),
            // Ahead of the head: reset to the head.
            (id("e", 10), 9, 5, Start::Reset(Ahead, 9)),
            (id("e", 1), 0, 1, Start::Reset(Ahead, 0)),
            // Another history: reset, then everything this one holds (from seq 1 when it
            // holds it, else from its oldest kept event; nothing when it holds none).
            (id("x", 9), 9, 1, Start::Reset(UnknownEpoch, 0)),
            (id("x", 9), 9, 5, Start::Reset(UnknownEpoch, 4)),
            (id("x", 3), 9, 10, Start::Reset(UnknownEpoch, 9)),
            (id("x", 0), 0, 1, Start::Reset(UnknownEpoch, 0)),
            // Every event expired: only the head itself can be resumed from.
            (id("e", 9), 9, 10, Start::Head),
            (id("e", 8), 9, 10, Start::Reset(Evicted, 9)),
        ];
        for (since, head, oldest, want) in cases {
            assert_eq!(
                start(since.as_ref(), "e", head, oldest),
                want,
                "cursor {since:?}, head {head}, oldest {oldest}"
            );
        }
    }
}
