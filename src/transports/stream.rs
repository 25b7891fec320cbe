//! Streamed answers (forever iframe, multipart, Server-Sent Events): a [`Pump`] written
//! through one transport's [`Framing`]. When several events are ready they go out as one
//! chunk, so a client that fell behind catches up in one write instead of one per event.

use std::io::Cursor;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rocket::futures::Stream;
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::stream::ReaderStream;
use rocket::response::{self, Responder, Response};

use super::guard::Place;
use super::pump::{BATCH_BYTES, End, Pump, Step};
use crate::config::PushConfig;
use crate::hub::{Event, EventId, ResetReason, Subscription};

/// What every held stream and WebSocket says first, at once: the server's clock and how
/// often the client can expect a sign of life when nothing else is sent. A client that sees
/// it but then nothing for much longer than `heartbeat_ms` sits behind something that buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// The server's time, in milliseconds since the Unix epoch.
    pub time: u64,
    pub heartbeat_ms: u64,
}

impl Hello {
    /// A hello stamped now, for a connection whose heartbeat comes every `heartbeat`.
    pub fn now(heartbeat: Duration) -> Hello {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Hello {
            time: ms(since_epoch),
            heartbeat_ms: ms(heartbeat),
        }
    }

    /// The control frame (iframe, multipart and WebSocket):
    /// `{"type":"hello","time":…,"heartbeat_ms":…}`.
    pub fn frame(&self) -> serde_json::Value {
        serde_json::json!({"type": "hello", "time": self.time, "heartbeat_ms": self.heartbeat_ms})
    }

    /// The data of SSE's `event: hello`: `{"time":…,"heartbeat_ms":…}`.
    pub fn data(&self) -> String {
        serde_json::json!({"time": self.time, "heartbeat_ms": self.heartbeat_ms}).to_string()
    }
}

/// How a stream opens: its hello, and why its cursor could not be honoured (if it could
/// not), continuing from `cursor`.
pub struct Opening {
    pub hello: Hello,
    pub reset: Option<ResetReason>,
    pub cursor: EventId,
}

impl Opening {
    /// How `pump`'s connection opens, now.
    pub fn of(pump: &Pump) -> Opening {
        Opening {
            hello: Hello::now(pump.heartbeat()),
            reset: pump.reset(),
            cursor: pump.cursor(),
        }
    }

    /// The control frames that open a connection, in order: the hello, then the reset if
    /// there is one (iframe, multipart and WebSocket).
    pub fn frames(&self) -> impl Iterator<Item = serde_json::Value> {
        let reset = self.reset.map(|why| reset_frame(&self.cursor, why));
        std::iter::once(self.hello.frame()).chain(reset)
    }
}

/// The control frame that comes right after the hello, before any data, when a cursor could
/// not be honoured (iframe, multipart and WebSocket; SSE has its own `event: reset`).
pub fn reset_frame(next: &EventId, why: ResetReason) -> serde_json::Value {
    serde_json::json!({"type": "reset", "next": next, "reason": why.as_str()})
}

/// The control frame a multipart stream or a WebSocket sends when nothing else went out for
/// a heartbeat interval: `{"type":"heartbeat"}`.
pub fn heartbeat_frame() -> serde_json::Value {
    serde_json::json!({"type": "heartbeat"})
}

/// The last frame of an iframe or multipart stream: why it ends and where to resume.
pub fn end_frame(why: End, next: &EventId) -> serde_json::Value {
    serde_json::json!({"type": "end", "reason": why.reason(), "next": next})
}

/// How one transport writes a stream. Every method appends to `out`, the next chunk.
pub trait Framing: Send + 'static {
    /// The response's content type.
    fn content_type(&self) -> ContentType;
    /// Sent first: padding or a preamble, the hello, then a reset frame when the cursor
    /// could not be honoured.
    fn start(&mut self, opening: &Opening, out: &mut Vec<u8>);
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
    /// connection's place (its slot and meter) until the stream ends, and ending it when the
    /// connection's token expires.
    pub fn new(framing: F, subscription: Subscription, config: &PushConfig, place: Place) -> Self {
        let pump = Pump::new(subscription, config.heartbeat(), place)
            .watching_writes(config.write_timeout() / 4);
        Push { framing, pump }
    }

    /// The whole stream as chunks, ending after the closing frame. Every chunk is marked
    /// as handed to the writer until the writer comes back for more (see
    /// [`Pump::watching_writes`]).
    fn chunks(self) -> impl Stream<Item = Cursor<Vec<u8>>> + Send {
        let Push {
            mut framing,
            mut pump,
        } = self;
        rocket::async_stream::stream! {
            let mut out = Vec::new();
            framing.start(&Opening::of(&pump), &mut out);
            let mut sent = out.len();
            if !out.is_empty() {
                pump.sent(sent);
                pump.handing();
                yield Cursor::new(out);
                pump.taken();
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
                pump.handing();
                yield Cursor::new(out);
                pump.taken();
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
