//! The streaming clients: the forever iframe (`<script>parent.foreverIframe(frame)</script>`
//! chunks), multipart (`--boundary` parts of JSON) and Server-Sent Events. Each reads one
//! response as it arrives. As the client library does (`static/client/reverse-ajax.js`), a
//! stream the server ended on purpose (an `end` frame) is opened again at once from the last
//! id, `shutdown` after a back-off pause; an SSE stream is reopened after the server's
//! `retry:` delay with `Last-Event-ID`, as `EventSource` does.

use std::time::Duration;

use tokio::time::sleep;

use super::frames::Parser;
use super::{Backoff, Ctx};
use crate::experiment::net::{Link, Read, request};
use crate::experiment::tally::{Frame, Tally};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Iframe,
    Multipart,
    Sse,
}

pub async fn run(kind: Kind, ctx: &Ctx, tally: &mut Tally) {
    let mut link = Link::new(ctx.addr, &ctx.meter);
    let mut since = ctx.start.clone();
    let mut backoff = Backoff::default();
    // An EventSource keeps its URL for life and adds Last-Event-ID when it reconnects.
    let sse_url = format!(
        "/push/{}/sse{}",
        ctx.channel,
        ctx.query(&[("last_event_id", &since)])
    );
    let mut reconnecting = false;
    let mut retry = Duration::from_secs(3);
    loop {
        tally.requests += 1;
        let target = match kind {
            Kind::Iframe => format!(
                "/push/{}/iframe{}",
                ctx.channel,
                ctx.query(&[("since", &since)])
            ),
            Kind::Multipart => {
                format!(
                    "/push/{}/multipart{}",
                    ctx.channel,
                    ctx.query(&[("since", &since)])
                )
            }
            Kind::Sse => sse_url.clone(),
        };
        let mut headers = vec![(
            "Accept",
            if kind == Kind::Sse {
                "text/event-stream"
            } else {
                "*/*"
            },
        )];
        if kind == Kind::Sse && reconnecting {
            headers.push(("Last-Event-ID", since.as_str()));
        }
        let bytes = request("GET", &target, &ctx.host, &headers, "");
        let mut parser = Parser::new(kind);
        let outcome = session(&mut link, &bytes, &mut parser, &mut since, tally).await;
        if let Some(ms) = parser.retry_ms {
            retry = Duration::from_millis(ms);
        }
        let wait = match (kind, outcome) {
            (Kind::Sse, Ok(_)) => {
                backoff.reset();
                reconnecting = true;
                retry
            }
            (_, Ok(Some(reason))) if reason != "shutdown" => {
                backoff.reset();
                Duration::ZERO
            }
            (_, Ok(Some(_))) => backoff.fail(),
            (_, Ok(None)) => {
                ctx.warn("a stream stopped without an end frame");
                backoff.fail()
            }
            (_, Err(e)) => {
                link.drop_connection();
                ctx.warn(&e);
                // A refused EventSource is closed for good; the page opens a new one.
                reconnecting = false;
                backoff.fail()
            }
        };
        sleep(wait).await;
    }
}

/// Reads one stream to its end. Returns the reason of its `end` frame, if it had one.
async fn session(
    link: &mut Link,
    request: &[u8],
    parser: &mut Parser,
    since: &mut String,
    tally: &mut Tally,
) -> Result<Option<String>, String> {
    let (head, mut body) = link.send(request).await?;
    if head.status != 200 {
        return Err(format!("the stream answered {}", head.status));
    }
    parser.start(&head)?;
    let (mut data, mut frames, mut ended) = (Vec::new(), Vec::new(), None);
    loop {
        let read = link.read(&head, &mut body, &mut data).await?;
        parser.feed(&mut data, &mut frames)?;
        for frame in frames.drain(..) {
            match frame {
                Frame::Event(envelope) => {
                    tally.event(&envelope);
                    since.clone_from(&envelope.id);
                }
                Frame::Reset(next) => {
                    tally.resets += 1;
                    *since = next;
                }
                Frame::End { reason, next } => {
                    if let Some(next) = next {
                        *since = next;
                    }
                    ended = Some(reason);
                }
                Frame::Other => {}
            }
        }
        if read != Read::Data {
            return Ok(ended);
        }
    }
}
