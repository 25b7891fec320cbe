//! Server-Sent Events, mounted at `GET /push/<ch>/sse`.
//!
//! HTTP streaming as the web platform standardised it: the browser's `EventSource` reads a
//! `text/event-stream`, remembers the last `id:` it saw and, when the stream drops, reconnects
//! by itself and sends that id back in the `Last-Event-ID` header.

use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Route, State};

use super::pump::End;
use super::stream::{Framing, Opening, Push};
use crate::access::Listener;
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Event, EventId, Hub};
use crate::wire::{channel, cursor};

/// The `Last-Event-ID` header, when the browser sends one.
pub struct LastEventId<'r>(Option<&'r str>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LastEventId<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(LastEventId(request.headers().get_one("Last-Event-ID")))
    }
}

/// The `text/event-stream` framing.
pub struct Sse {
    retry_ms: u64,
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

    fn end(&mut self, why: End, _cursor: &EventId, out: &mut Vec<u8>) {
        let text = match why {
            End::Shutdown => format!("retry: {}\nevent: shutdown\ndata: {{}}\n\n", self.retry_ms),
            _ => ": resume from your last id\n\n".to_owned(),
        };
        out.extend_from_slice(text.as_bytes());
    }
}

/// Streams the channel's events as Server-Sent Events, resuming after `Last-Event-ID` (or
/// `?last_event_id=`, for clients that cannot set headers). A cursor that cannot be honoured
/// starts with `event: reset`.
#[get("/push/<ch>/sse?<last_event_id>")]
pub async fn sse(
    ch: &str,
    last_event_id: Option<&str>,
    header: LastEventId<'_>,
    listener: Listener,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Push<Sse>, AppError> {
    let since = cursor(header.0.or(last_event_id))?;
    let subscription = hub.subscribe(&channel(ch)?, since.as_ref()).await?;
    let framing = Sse {
        retry_ms: config.retry_ms,
    };
    Ok(Push::new(framing, subscription, config, listener.place()))
}

pub fn routes() -> Vec<Route> {
    routes![sse]
}
