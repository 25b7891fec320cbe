//! XHR long polling, mounted at `GET /push/<ch>/long-poll?since=`.
//!
//! The request is held until at least one event follows the client's cursor, then answered at
//! once with everything pending; or, after the server's cap, answered with an empty batch so
//! that the client asks again. [`Held`] does the waiting for script-tag long polling too.

use std::time::Duration;

use rocket::futures::FutureExt;
use rocket::http::ContentType;
use rocket::request::Request;
use rocket::response::stream::TextStream;
use rocket::response::{self, Responder};
use rocket::{Route, Shutdown, State};

use super::stream::stream_headers;
use super::{channel, cursor};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Batch, Hub, Subscription};

/// A held answer: the batch once it is ready, written by `render`.
///
/// Rocket runs a handler to its end even when the client has gone, and only notices the
/// client is gone when it writes. So the answer's headers go out at once and, while it waits,
/// the body is a single space every `probe` interval (JSON and JavaScript both allow leading
/// white space). A departed client then frees its waiter within one probe interval instead of
/// holding it until the cap.
pub struct Held<R> {
    pub subscription: Subscription,
    pub content_type: ContentType,
    pub render: R,
    pub cap: Duration,
    pub probe: Duration,
    pub shutdown: Shutdown,
}

impl<R: Fn(&Batch) -> String + Send + 'static> Held<R> {
    /// Opens a held answer on `ch` after `since`, configured from `config`.
    pub async fn open(
        hub: &Hub,
        ch: &str,
        since: Option<&str>,
        config: &PushConfig,
        shutdown: Shutdown,
        content_type: ContentType,
        render: R,
    ) -> Result<Held<R>, AppError> {
        let subscription = hub
            .subscribe(&channel(ch)?, cursor(since)?.as_ref())
            .await?;
        let (cap, probe) = (config.long_poll_max(), config.probe());
        Ok(Held {
            subscription,
            content_type,
            render,
            cap,
            probe,
            shutdown,
        })
    }

    fn chunks(self) -> impl rocket::futures::Stream<Item = String> + Send {
        let Held {
            mut subscription,
            render,
            cap,
            probe,
            shutdown,
            ..
        } = self;
        rocket::async_stream::stream! {
            let reset = subscription.reset();
            let mut events = Vec::new();
            let mut shutdown = std::pin::pin!(shutdown);
            let mut deadline = std::pin::pin!(tokio::time::sleep(cap));
            let mut probes = tokio::time::interval_at(tokio::time::Instant::now() + probe, probe);
            if !reset {
                loop {
                    tokio::select! {
                        first = subscription.next() => {
                            if let Ok(event) = first {
                                events.push(event);
                                // Take what is already waiting too, without waiting again.
                                while let Some(Ok(event)) = subscription.next().now_or_never() {
                                    events.push(event);
                                }
                            }
                            break;
                        }
                        _ = probes.tick() => yield " ".to_owned(),
                        _ = &mut deadline => break,
                        _ = &mut shutdown => break,
                    }
                }
            }
            yield render(&Batch { events, next: subscription.cursor(), reset });
        }
    }
}

impl<'r, R: Fn(&Batch) -> String + Send + 'static> Responder<'r, 'r> for Held<R> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'r> {
        let content_type = self.content_type.clone();
        let mut response = TextStream(Box::pin(self.chunks())).respond_to(request)?;
        response.set_header(content_type);
        for header in stream_headers() {
            response.set_header(header);
        }
        Ok(response)
    }
}

/// Answers `{"events":[…],"next":…,"reset":…}` as soon as there is at least one event after
/// `since`, or with no events once `push.long_poll_max_ms` has passed (or at shutdown).
#[get("/push/<ch>/long-poll?<since>")]
pub async fn long_poll(
    ch: &str,
    since: Option<&str>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    shutdown: Shutdown,
) -> Result<Held<impl Fn(&Batch) -> String + Send + 'static>, AppError> {
    let json = |batch: &Batch| serde_json::to_string(batch).unwrap_or_default();
    Held::open(hub, ch, since, config, shutdown, ContentType::JSON, json).await
}

pub fn routes() -> Vec<Route> {
    routes![long_poll]
}
