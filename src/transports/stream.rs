//! The one loop behind every streaming transport (forever iframe, multipart, Server-Sent
//! Events). It waits on three things at once: the next hub event, the heartbeat timer and
//! Rocket's shutdown signal. A transport supplies only its [`Framing`].

use std::time::Duration;

use rocket::Shutdown;
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::stream::TextStream;
use rocket::response::{self, Responder};

use crate::hub::{Event, EventId, Subscription, SubscriptionEnd};

/// Why a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The server is shutting down; the client should come back later.
    Shutdown,
    /// The client fell behind (or the hub lost events); it should resume from its cursor.
    Lagged,
    /// The stream sent its byte budget; the client should resume from its cursor.
    Budget,
}

impl End {
    /// The word that names this end in `end` frames.
    pub fn reason(self) -> &'static str {
        match self {
            End::Shutdown => "shutdown",
            End::Lagged => "lagged",
            End::Budget => "budget",
        }
    }
}

/// The control frame that comes before any data when a cursor could not be honoured
/// (iframe, multipart and WebSocket; SSE has its own `event: reset`).
pub fn reset_frame(next: &EventId) -> serde_json::Value {
    serde_json::json!({"type": "reset", "next": next})
}

/// The last frame of an iframe or multipart stream: why it ends and where to resume.
pub fn end_frame(why: End, next: &EventId) -> serde_json::Value {
    serde_json::json!({"type": "end", "reason": why.reason(), "next": next})
}

/// How one transport writes a stream. Every method returns the text to send.
pub trait Framing: Send + 'static {
    /// The response's content type.
    fn content_type(&self) -> ContentType;
    /// Sent first: padding, a preamble, and a reset frame when `reset` is true.
    fn start(&mut self, reset: bool, cursor: &EventId) -> String;
    /// One event.
    fn event(&mut self, event: &Event) -> String;
    /// Sent when nothing else was for a heartbeat interval, so proxies keep the line open.
    fn heartbeat(&mut self) -> String;
    /// The last words before the stream closes, knowing the last id delivered.
    fn end(&mut self, why: End, cursor: &EventId) -> String;
    /// After this many bytes the stream ends with [`End::Budget`]; `None` for no limit.
    fn budget(&self) -> Option<usize> {
        None
    }
}

/// A streamed answer: a subscription written through a framing until it ends.
pub struct Push<F> {
    pub framing: F,
    pub subscription: Subscription,
    pub heartbeat: Duration,
    pub shutdown: Shutdown,
}

impl<F: Framing> Push<F> {
    /// The whole stream as text chunks, ending after the closing frame.
    fn chunks(self) -> impl rocket::futures::Stream<Item = String> + Send {
        let Push {
            mut framing,
            mut subscription,
            heartbeat,
            shutdown,
        } = self;
        rocket::async_stream::stream! {
            let mut sent = 0usize;
            let first = framing.start(subscription.reset(), &subscription.cursor());
            sent += first.len();
            yield first;
            let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
            let mut shutdown = std::pin::pin!(shutdown);
            let why = loop {
                if framing.budget().is_some_and(|max| sent >= max) {
                    break End::Budget;
                }
                let chunk = tokio::select! {
                    next = subscription.next() => match next {
                        Ok(event) => framing.event(&event),
                        Err(SubscriptionEnd::Lagged) => break End::Lagged,
                        Err(SubscriptionEnd::Closed) => break End::Shutdown,
                    },
                    _ = beat.tick() => framing.heartbeat(),
                    _ = &mut shutdown => break End::Shutdown,
                };
                beat.reset();
                sent += chunk.len();
                yield chunk;
            };
            yield framing.end(why, &subscription.cursor());
        }
    }
}

impl<'r, F: Framing> Responder<'r, 'r> for Push<F> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'r> {
        let content_type = self.framing.content_type();
        let mut response = TextStream(Box::pin(self.chunks())).respond_to(request)?;
        response.set_header(content_type);
        for header in stream_headers() {
            response.set_header(header);
        }
        Ok(response)
    }
}

/// The headers every stream and held request carries, set in this one place (`nosniff` comes
/// from Rocket's Shield, see [`super::no_store`]).
pub fn stream_headers() -> [Header<'static>; 2] {
    [super::no_store(), Header::new("X-Accel-Buffering", "no")]
}
