//! Server-Sent Events, mounted at `GET /push/<ch>/sse`.
//!
//! HTTP streaming as the web platform standardised it: the browser's `EventSource` reads a
//! `text/event-stream`, remembers the last `id:` it saw and, when the stream drops, reconnects
//! by itself and sends that id back in the `Last-Event-ID` header.

use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Route, State};

use super::guard::Connection;
use super::pump::End;
use super::stream::{Framing, Opening, Push};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Event, EventId, Hub};
use crate::wire::{Serves, Technique, cursor};

/// The `Last-Event-ID` header, when the browser sends one.
pub struct LastEventId<'r>(Option<&'r str>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LastEventId<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(LastEventId(request.headers().get_one("Last-Event-ID")))
    }
}

/// The route's technique.
pub struct ServerSentEvents;

impl Serves for ServerSentEvents {
    fn technique(_: &Request<'_>) -> Technique {
        Technique::ServerSentEvents
    }
}

/// The `text/event-stream` framing.
pub struct Sse {
    retry_ms: u64,
}

impl Sse {
    /// The framing, with the reconnection delay it advises (`retry:`).
    pub fn new(retry_ms: u64) -> Sse {
        Sse { retry_ms }
    }
}

impl Framing for Sse {
    fn content_type(&self) -> ContentType {
        ContentType::EventStream
    }

    fn start(&mut self, opening: &Opening, out: &mut Vec<u8>) {
        let mut text = format!(
            "retry: {}\n\nevent: hello\ndata: {}\n\n",
            self.retry_ms,
            opening.hello.data()
        );
        if let Some(why) = opening.reset {
            let cursor = &opening.cursor;
            // The id line moves the browser's Last-Event-ID to where we resume from.
            text += &format!(
                "event: reset\nid: {cursor}\ndata: {{\"next\":\"{cursor}\",\"reason\":\"{why}\"}}\n\n"
            );
        }
        out.extend_from_slice(text.as_bytes());
    }

    fn event(&mut self, event: &Event, out: &mut Vec<u8>) {
        // The stored envelope is compact JSON, with no line breaks, so one `data:` line
        // carries it whole.
        for piece in ["id: ", event.id_str(), "\ndata: ", event.json(), "\n\n"] {
            out.extend_from_slice(piece.as_bytes());
        }
    }

    fn heartbeat(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b": heartbeat\n\n");
    }

    fn end(&mut self, why: End, cursor: &EventId, out: &mut Vec<u8>) {
        let text = match why {
            End::Shutdown => format!("retry: {}\nevent: shutdown\ndata: {{}}\n\n", self.retry_ms),
            // The browser would reconnect by itself with the same (expired) token: the data
            // says why and where a client with a fresh token resumes.
            End::TokenExpired => format!(
                "event: end\ndata: {{\"reason\":\"{}\",\"next\":\"{cursor}\"}}\n\n",
                why.reason()
            ),
            _ => ": resume from your last id\n\n".to_owned(),
        };
        out.extend_from_slice(text.as_bytes());
    }
}

/// Streams the channel's events as Server-Sent Events, resuming after `Last-Event-ID` (or
/// `?last_event_id=`, for clients that cannot set headers). A cursor that cannot be honoured
/// starts with `event: reset`.
#[get("/push/<_>/sse?<last_event_id>")]
pub async fn sse(
    last_event_id: Option<&str>,
    header: LastEventId<'_>,
    listener: Connection<ServerSentEvents>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Push<Sse>, AppError> {
    let since = cursor(header.0.or(last_event_id))?;
    let subscription = hub.subscribe(&listener.channel, since.as_ref()).await?;
    Ok(Push::new(
        Sse::new(config.retry_ms),
        subscription,
        config,
        listener.place(),
    ))
}

pub fn routes() -> Vec<Route> {
    routes![sse]
}
