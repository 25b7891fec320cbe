//! A held answer, shared by XHR and script-tag long polling.
//!
//! The request waits until at least one event follows the client's cursor and is then
//! answered with everything pending, or with an empty batch at the server's cap (or earlier,
//! when the token it was admitted with stops counting).
//!
//! Rocket runs a handler to its end even when the client has gone; hyper notices a client
//! that left, but Rocket's handler only learns of it when its answer cannot be sent. So the
//! wait has two parts. For the first probe interval (`push.probe_ms`) the handler waits by
//! itself: an event that comes in time is answered as one plain response, in one write, as a
//! long poll should be. After that the answer's headers go out and, while it waits on, the
//! body is a single space every probe interval (JSON and JavaScript both allow leading white
//! space). Either way a departed client frees its place within about one probe interval
//! instead of holding it until the cap.

use std::sync::Arc;

use rocket::State;
use rocket::futures::{FutureExt, Stream};
use rocket::http::ContentType;
use rocket::request::Request;
use rocket::response::stream::ReaderStream;
use rocket::response::{self, Responder, Response};

use super::guard::Connection;
use super::pump::{End, Pump, Step};
use super::stream::stream_headers;
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Batch, Event, Hub};
use crate::wire::cursor;

/// A held answer: ready at once, or still waiting with its headers sent. `R` writes the
/// batch that ends it (as JSON, or as JSONP).
pub enum Held<R> {
    Ready(ContentType, String),
    Waiting(ContentType, Box<Waiting<R>>),
}

/// The rest of a held answer that outlived the first probe interval.
pub struct Waiting<R> {
    pump: Pump,
    render: R,
}

impl<R: Fn(&Batch) -> String + Send + 'static> Held<R> {
    /// Holds a request on the listener's channel after `since` until there is something to
    /// answer, or the first probe interval has passed, holding the listener's place meanwhile.
    pub async fn open<T>(
        hub: &State<Hub>,
        since: Option<&str>,
        listener: Connection<T>,
        config: &PushConfig,
        (content_type, render): (ContentType, R),
    ) -> Result<Held<R>, AppError> {
        let subscription = hub
            .subscribe(&listener.channel, cursor(since)?.as_ref())
            .await?;
        let mut pump = Pump::new(subscription, config.probe(), listener.place())
            .with_cap(config.long_poll_max());
        if pump.reset().is_some() {
            // A reset is answered at once, with the events the history still holds after it.
            let ready = match pump.next().now_or_never() {
                Some(Step::Events(events)) => (events.to_vec(), None),
                Some(Step::End(end)) => (Vec::new(), Some(end)),
                Some(Step::Beat) | None => (Vec::new(), None),
            };
            let body = answer(&mut pump, ready, &render);
            return Ok(Held::Ready(content_type, body));
        }
        let ready = match pump.next().await {
            Step::Events(events) => (events.to_vec(), None),
            Step::End(end) => (Vec::new(), Some(end)),
            Step::Beat => {
                let waiting = Box::new(Waiting { pump, render });
                return Ok(Held::Waiting(content_type, waiting));
            }
        };
        let body = answer(&mut pump, ready, &render);
        Ok(Held::Ready(content_type, body))
    }
}

/// The body that ends the wait: `events` and the cursor after them, rendered and counted;
/// `end` is why the wait ended, when it was not for events.
fn answer<R: Fn(&Batch) -> String>(
    pump: &mut Pump,
    (events, end): (Vec<Arc<Event>>, Option<End>),
    render: &R,
) -> String {
    let batch = Batch {
        events,
        next: pump.cursor(),
        reset: pump.reset(),
    };
    let body = render(&batch);
    pump.sent(body.len());
    match end {
        // The token ended the wait, not the poll's own rule: counted as such, though the
        // request is answered (with what it has; the next one needs a fresh token).
        Some(End::TokenExpired) => pump.ending(End::TokenExpired),
        _ => pump.answered(),
    }
    body
}

impl<R: Fn(&Batch) -> String + Send + 'static> Waiting<R> {
    /// A space per probe, then the answer.
    fn chunks(self) -> impl Stream<Item = std::io::Cursor<Vec<u8>>> + Send {
        let Waiting { mut pump, render } = self;
        rocket::async_stream::stream! {
            let ready = loop {
                match pump.next().await {
                    Step::Beat => {
                        pump.sent(1);
                        yield std::io::Cursor::new(b" ".to_vec());
                    }
                    Step::Events(events) => break (events.to_vec(), None),
                    Step::End(end) => break (Vec::new(), Some(end)),
                }
            };
            yield std::io::Cursor::new(answer(&mut pump, ready, &render).into_bytes());
        }
    }
}

impl<'r, R: Fn(&Batch) -> String + Send + 'static> Responder<'r, 'static> for Held<R> {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        for header in stream_headers() {
            response.header(header);
        }
        match self {
            Held::Ready(content_type, body) => response
                .header(content_type)
                .sized_body(body.len(), std::io::Cursor::new(body))
                .ok(),
            Held::Waiting(content_type, waiting) => response
                .header(content_type)
                .streamed_body(ReaderStream::from(waiting.chunks()))
                .ok(),
        }
    }
}
