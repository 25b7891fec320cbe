//! The streaming clients: the forever iframe (`<script>parent.foreverIframe(frame)</script>`
//! chunks), multipart (`--boundary` parts of JSON) and Server-Sent Events. Each reads one
//! response as it arrives. As the client library does (`static/client/reverse-ajax.js`), a
//! stream the server ended on purpose (an `end` frame) is opened again at once from the last
//! id, `shutdown` after a back-off pause; an SSE stream is reopened after the server's `retry:` delay with
//! `Last-Event-ID`, as `EventSource` does.

use std::time::Duration;

use tokio::time::{sleep, timeout};

use super::parser::{Kind, Parser};
use super::{Ctx, Life};
use crate::load::conn::{Link, Read, request};
use crate::load::frame::Frame;
use crate::load::tally::{Stamp, Tally};

/// Bytes of decoded body kept between reads at first.
const DECODED: usize = 16 * 1024;

pub async fn run(kind: Kind, ctx: &Ctx, tally: &mut Tally) {
    let mut life = Life::new(ctx);
    let mut link = Link::new(ctx.addr, &ctx.meter);
    let mut since = ctx.start.clone();
    // An EventSource keeps its URL for life and adds Last-Event-ID when it reconnects.
    let sse_url = ctx.peer.push("sse", &[("last_event_id", &since)]);
    let mut reconnecting = false;
    let mut retry = Duration::from_secs(3);
    let mut parser = Parser::new(kind);
    let mut decoded = Vec::with_capacity(DECODED);
    loop {
        tally.requests += 1;
        let target = match kind {
            Kind::Iframe => ctx.peer.push("iframe", &[("since", &since)]),
            Kind::Multipart => ctx.peer.push("multipart", &[("since", &since)]),
            Kind::Sse => sse_url.clone(),
        };
        let accept = match kind {
            Kind::Sse => "text/event-stream",
            _ => "*/*",
        };
        let mut headers = vec![("Accept", accept)];
        if kind == Kind::Sse && reconnecting && !since.is_empty() {
            headers.push(("Last-Event-ID", since.as_str()));
        }
        let bytes = request("GET", &target, &ctx.host, &headers, "");
        decoded.clear();
        let mut session = Session {
            link: &mut link,
            parser: &mut parser,
            decoded: &mut decoded,
            since: &mut since,
        };
        let outcome = session.run(&mut life, &bytes, tally).await;
        if let Some(ms) = parser.retry_ms {
            retry = Duration::from_millis(ms);
        }
        let wait = match (kind, outcome) {
            (Kind::Sse, Ok(_)) => {
                life.ok();
                reconnecting = true;
                life.again_after(retry)
            }
            (_, Ok(Some(reason))) if reason != "shutdown" => {
                life.ok();
                life.again_after(Duration::ZERO)
            }
            (_, Ok(Some(_))) => life.again_later(),
            (_, Ok(None)) => {
                ctx.warn("a stream stopped without an end frame");
                life.again_later()
            }
            (_, Err(e)) => {
                link.drop_connection();
                // A refused EventSource is closed for good; the page opens a new one.
                reconnecting = false;
                match life.failed(&e) {
                    Some(pause) => pause,
                    None => return,
                }
            }
        };
        sleep(wait).await;
    }
}

/// One stream, read to its end.
struct Session<'s> {
    link: &'s mut Link,
    parser: &'s mut Parser,
    decoded: &'s mut Vec<u8>,
    /// The cursor: the id of the last event, or where a reset or an end frame points.
    since: &'s mut String,
}

impl Session<'_> {
    /// Returns the reason of the stream's `end` frame, if it had one.
    async fn run(
        &mut self,
        life: &mut Life<'_>,
        request: &[u8],
        tally: &mut Tally,
    ) -> Result<Option<String>, String> {
        life.begin().await;
        let mut fresh = false;
        let mut written = |new| fresh = new;
        let opening = self.link.send_noting(request, &mut written);
        let (head, mut body) = timeout(life.open_timeout(), opening)
            .await
            .map_err(|_| "no answer within 30 s".to_owned())??;
        if head.status != 200 {
            return Err(format!("the stream answered {}", head.status));
        }
        life.opened(tally, fresh);
        self.parser.start(&head)?;
        let mut ended = None;
        loop {
            let read = self.link.read(&head, &mut body, self.decoded).await?;
            let stamp = Stamp::now();
            let since = &mut *self.since;
            self.parser.feed(self.decoded, &mut |frame| match frame {
                Frame::Event(event) => {
                    tally.event(&event, stamp);
                    if let Some(id) = event.id {
                        id.clone_into(since);
                    }
                }
                Frame::Reset(next) => {
                    tally.resets += 1;
                    next.clone_into(since);
                }
                Frame::End { reason, next } => {
                    if let Some(next) = next {
                        next.clone_into(since);
                    }
                    ended = Some(reason.to_owned());
                }
                Frame::Other => {}
            })?;
            if read != Read::Data {
                return Ok(ended);
            }
        }
    }
}
