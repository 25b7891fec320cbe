//! Server-Sent Events, mounted at `GET /push/<ch>/sse`.
//!
//! HTTP streaming as the web platform standardised it: the browser's `EventSource` reads a
//! `text/event-stream`, remembers the last `id:` it saw and, when the stream drops, reconnects
//! by itself and sends that id back in the `Last-Event-ID` header.

use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Route, Shutdown, State};

use super::stream::{End, Framing, Push};
use super::{channel, cursor};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Event, EventId, Hub};

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

    fn start(&mut self, reset: bool, cursor: &EventId) -> String {
        let mut out = format!("retry: {}\n\n", self.retry_ms);
        if reset {
            // The id line moves the browser's Last-Event-ID to the head we resume from.
            out += &format!("event: reset\nid: {cursor}\ndata: {{\"next\":\"{cursor}\"}}\n\n");
        }
        out
    }

    fn event(&mut self, event: &Event) -> String {
        // Compact JSON has no line breaks, so one `data:` line carries the whole envelope.
        let json = serde_json::to_string(event).unwrap_or_default();
        format!("id: {}\ndata: {json}\n\n", event.id)
    }

    fn heartbeat(&mut self) -> String {
        ": heartbeat\n\n".to_owned()
    }

    fn end(&mut self, why: End, _cursor: &EventId) -> String {
        match why {
            End::Shutdown => format!("retry: {}\nevent: shutdown\ndata: {{}}\n\n", self.retry_ms),
            End::Lagged | End::Budget => ": resume from your last id\n\n".to_owned(),
        }
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
    hub: &State<Hub>,
    config: &State<PushConfig>,
    shutdown: Shutdown,
) -> Result<Push<Sse>, AppError> {
    let since = cursor(header.0.or(last_event_id))?;
    let subscription = hub.subscribe(&channel(ch)?, since.as_ref()).await?;
    Ok(Push {
        framing: Sse {
            retry_ms: config.retry_ms,
        },
        subscription,
        heartbeat: config.heartbeat(),
        shutdown,
    })
}

pub fn routes() -> Vec<Route> {
    routes![sse]
}
