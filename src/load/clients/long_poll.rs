//! The long-polling clients: `fetch` (`/push/<ch>/long-poll`) and a `<script>` per poll
//! (`/push/<ch>/script`). As in the client library's poll loop
//! (`static/client/transports/poll.js`), the next poll goes out as soon as an answer is in, on the
//! same keep-alive connection, and only failures pause the loop.
//! Ours answers a batch and the next poll asks `?since=<next>`; Nchan answers one payload
//! per request, and the next request sends its `Last-Modified` and `Etag` back as
//! `If-Modified-Since` and `If-None-Match`. A client counts as connected once its first
//! request is written.

use std::time::Duration;

use tokio::time::{sleep, timeout};

use super::{Ctx, Life, jsonp_argument};
use crate::load::conn::{Link, request};
use crate::load::frame::Frame;
use crate::load::peer::Peer;
use crate::load::tally::{Stamp, Tally};

#[derive(Clone, Copy)]
pub enum Kind {
    Fetch,
    Script,
}

impl Kind {
    /// How long the page waits for an answer before it gives the request up.
    fn timeout(self) -> Duration {
        match self {
            Kind::Fetch => Duration::from_secs(60),
            Kind::Script => Duration::from_secs(35),
        }
    }
}

/// Where the next poll starts.
enum Cursor {
    /// Ours: the `next` of the last batch.
    Since(String),
    /// Nchan: the `Last-Modified` and `Etag` of the last answer.
    Nchan(Option<(String, String)>),
}

pub async fn run(kind: Kind, ctx: &Ctx, tally: &mut Tally) {
    let mut life = Life::new(ctx);
    let mut link = Link::new(ctx.addr, &ctx.meter);
    let mut cursor = match ctx.peer {
        Peer::Ours { .. } => Cursor::Since(ctx.start.clone()),
        Peer::Nchan { .. } => Cursor::Nchan(None),
    };
    let mut body = Vec::with_capacity(16 * 1024);
    for call in 1u64.. {
        tally.requests += 1;
        let mut poll = Poll {
            ctx,
            link: &mut link,
            cursor: &mut cursor,
            body: &mut body,
        };
        let answer = timeout(kind.timeout(), poll.once(kind, &mut life, call, tally)).await;
        match answer.unwrap_or_else(|_| Err("no answer in time".to_owned())) {
            Ok(()) => life.ok(),
            Err(e) => {
                link.drop_connection();
                match life.failed(&e) {
                    Some(pause) => sleep(pause).await,
                    None => return,
                }
            }
        }
    }
}

struct Poll<'p> {
    ctx: &'p Ctx,
    link: &'p mut Link,
    cursor: &'p mut Cursor,
    body: &'p mut Vec<u8>,
}

impl Poll<'_> {
    /// One poll: the request, its answer, and the tally and cursor updated from it.
    async fn once(
        &mut self,
        kind: Kind,
        life: &mut Life<'_>,
        call: u64,
        tally: &mut Tally,
    ) -> Result<(), String> {
        let ctx = self.ctx;
        let mut headers = vec![("Accept", "*/*")];
        let target = match (&*self.cursor, kind) {
            (Cursor::Since(since), Kind::Fetch) => ctx.peer.push("long-poll", &[("since", since)]),
            (Cursor::Since(since), Kind::Script) => {
                let callback = format!("ReverseAjax.longPoll.cb{call}");
                ctx.peer
                    .push("script", &[("since", since), ("callback", &callback)])
            }
            (Cursor::Nchan(cursor), _) => {
                if let Some((modified, etag)) = cursor {
                    headers.push(("If-Modified-Since", modified));
                    headers.push(("If-None-Match", etag));
                }
                ctx.peer.push("long-poll", &[])
            }
        };
        let bytes = request("GET", &target, &ctx.host, &headers, "");
        life.begin().await;
        let (head, body) = {
            let mut written = |fresh| life.opened(tally, fresh);
            self.link.send_noting(&bytes, &mut written).await?
        };
        self.body.clear();
        self.link.body_into(&head, body, self.body).await?;
        let stamp = Stamp::now();
        match (&mut *self.cursor, head.status) {
            (Cursor::Since(since), 200) => {
                let json = match kind {
                    Kind::Script => jsonp_argument(self.body)?,
                    Kind::Fetch => &self.body[..],
                };
                tally.batch(json, since, stamp)
            }
            (Cursor::Nchan(cursor), 200) => {
                match Frame::parse(self.body)? {
                    Frame::Event(event) if tally.event(&event, stamp) => {}
                    _ => tally.empty += 1,
                }
                let header = |name| head.header(name).unwrap_or("").to_owned();
                *cursor = Some((header("last-modified"), header("etag")));
                Ok(())
            }
            // Nchan: nothing new (a timeout); ask again with the same cursor.
            (Cursor::Nchan(_), 304 | 408) => {
                tally.empty += 1;
                Ok(())
            }
            (_, status) => Err(format!(
                "the long poll answered {status}: {}",
                String::from_utf8_lossy(self.body)
            )),
        }
    }
}
