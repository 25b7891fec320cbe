//! Streamed answers (forever iframe, multipart, Server-Sent Events): a [`Pump`] written
//! through one transport's [`Framing`]. When several events are ready they go out as one
//! chunk, so a client that fell behind catches up in one write instead of one per event.

use std::io::Cursor;

use rocket::futures::Stream;
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::stream::ReaderStream;
use rocket::response::{self, Responder, Response};

use super::pump::{BATCH_BYTES, End, Pump, Step};
use crate::access::slots::Slot;
use crate::config::PushConfig;
use crate::hub::{Event, EventId, Subscription};
use crate::metrics::Meter;

/// The control frame that comes before any data when a cursor could not be honoured
/// (iframe, multipart and WebSocket; SSE has its own `event: reset`).
pub fn reset_frame(next: &EventId) -> serde_json::Value {
    serde_json::json!({"type": "reset", "next": next})
}

/// The last frame of an iframe or multipart stream: why it ends and where to resume.
pub fn end_frame(why: End, next: &EventId) -> serde_json::Value {
    serde_json::json!({"type": "end", "reason": why.reason(), "next": next})
}

/// How one transport writes a stream. Every method appends to `out`, the next chunk.
pub trait Framing: Send + 'static {
    /// The response's content type.
    fn content_type(&self) -> ContentType;
    /// Sent first: padding, a preamble, and a reset frame when `reset` is true.
    fn start(&mut self, reset: bool, cursor: &EventId, out: &mut Vec<u8>);
    /// One event. Transports copy the event's stored envelope (or a stored escaped form of
    /// it) into `out`; nothing is serialized per subscriber.
    fn event(&mut self, event: &Event, out: &mut Vec<u8>);
    /// Sent when nothing else was for a heartbeat interval, so proxies keep the line open.
    fn heartbeat(&mut self, out: &mut Vec<u8>);
    /// The last words before the stream closes, knowing the last id delivered.
    fn end(&mut self, why: End, cursor: &EventId, out: &mut Vec<u8>);
    /// After this many bytes the stream ends with [`End::Budget`]; `None` for no limit.
    fn budget(&self) -> Option<usize> {
        None
    }
}

/// A streamed answer: a subscription written through a framing until it ends.
pub struct Push<F> {
    framing: F,
    pump: Pump,
}

impl<F: Framing> Push<F> {
    /// Streams `subscription` through `framing`, with heartbeats from `config`, holding the
    /// connection's place (its slot and meter) until the stream ends.
    pub fn new(
        framing: F,
        subscription: Subscription,
        config: &PushConfig,
        place: (Slot, Meter),
    ) -> Self {
        let pump = Pump::new(subscription, config.heartbeat(), place);
        Push { framing, pump }
    }

    /// The whole stream as chunks, ending after the closing frame.
    fn chunks(self) -> impl Stream<Item = Cursor<Vec<u8>>> + Send {
        let Push {
            mut framing,
            mut pump,
        } = self;
        rocket::async_stream::stream! {
            let mut out = Vec::new();
            framing.start(pump.reset(), &pump.cursor(), &mut out);
            let mut sent = out.len();
            if !out.is_empty() {
                pump.sent(sent);
                yield Cursor::new(out);
            }
            let why = loop {
                let room = framing.budget().map_or(usize::MAX, |max| max.saturating_sub(sent));
                if room == 0 {
                    pump.ending(End::Budget);
                    break End::Budget;
                }
                let mut out = Vec::new();
                match pump.next_within(room.min(BATCH_BYTES)).await {
                    Step::Events(events) => {
                        out.reserve(events.iter().map(|e| e.json().len() + 64).sum());
                        for event in events {
                            framing.event(event, &mut out);
                        }
                    }
                    Step::Beat => framing.heartbeat(&mut out),
                    Step::End(why) => break why,
                }
                sent += out.len();
                pump.sent(out.len());
                yield Cursor::new(out);
            };
            let mut out = Vec::new();
            framing.end(why, &pump.cursor(), &mut out);
            pump.sent(out.len());
            yield Cursor::new(out);
        }
    }
}

impl<'r, F: Framing> Responder<'r, 'r> for Push<F> {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'r> {
        let mut response = Response::build();
        response.header(self.framing.content_type());
        for header in stream_headers() {
            response.header(header);
        }
        response
            .streamed_body(ReaderStream::from(self.chunks()))
            .ok()
    }
}

/// The headers every stream and held request carries, set in this one place (`nosniff` comes
/// from Rocket's Shield, see [`super::no_store`]).
pub fn stream_headers() -> [Header<'static>; 2] {
    [
        crate::wire::no_store(),
        Header::new("X-Accel-Buffering", "no"),
    ]
}
