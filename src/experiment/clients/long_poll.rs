//! The long-polling clients: `fetch` (`/push/<ch>/long-poll`) and a `<script>` per poll
//! (`/push/<ch>/script`). As in the client library's poll loop
//! (`static/client/transports/poll.js`), the next poll goes out as soon as an answer is in,
//! and only failures pause the loop.

use std::time::Duration;

use tokio::time::{sleep, timeout};

use super::{Backoff, Ctx, jsonp_argument, ok_body};
use crate::experiment::net::{Link, request};
use crate::experiment::tally::{Batch, Tally};

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

pub async fn run(kind: Kind, ctx: &Ctx, tally: &mut Tally) {
    let mut link = Link::new(ctx.addr, &ctx.meter);
    let mut since = ctx.start.clone();
    let mut backoff = Backoff::default();
    for call in 1u64.. {
        tally.requests += 1;
        let answer = timeout(kind.timeout(), once(kind, ctx, &mut link, &since, call)).await;
        match answer.unwrap_or_else(|_| Err("no answer in time".to_owned())) {
            Ok(batch) => {
                backoff.reset();
                if let Some(next) = &batch.next {
                    since.clone_from(next);
                }
                tally.batch(&batch);
            }
            Err(e) => {
                link.drop_connection();
                ctx.warn(&e);
                sleep(backoff.fail()).await;
            }
        }
    }
}

async fn once(
    kind: Kind,
    ctx: &Ctx,
    link: &mut Link,
    since: &str,
    call: u64,
) -> Result<Batch, String> {
    let target = match kind {
        Kind::Fetch => format!(
            "/push/{}/long-poll{}",
            ctx.channel,
            ctx.query(&[("since", since)])
        ),
        Kind::Script => {
            let callback = format!("ReverseAjax.longPoll.cb{call}");
            let query = ctx.query(&[("since", since), ("callback", &callback)]);
            format!("/push/{}/script{query}", ctx.channel)
        }
    };
    let (head, body) = link
        .send(&request(
            "GET",
            &target,
            &ctx.host,
            &[("Accept", "*/*")],
            "",
        ))
        .await?;
    let body = ok_body(link, (&head, body), "the long poll").await?;
    let json = match kind {
        Kind::Script => jsonp_argument(&body)?,
        Kind::Fetch => &body,
    };
    serde_json::from_slice(json).map_err(|e| format!("an answer that is not a batch: {e}"))
}
