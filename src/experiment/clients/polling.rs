//! The clients that ask on a timer: HTTP polling (`fetch`), JSONP polling (a `<script>` per
//! poll) and piggyback (the registration form, sent every interval). As in the client
//! library's poll loop (`static/client/transports/poll.js`), the next wait starts when the
//! previous answer is in.

use std::time::Duration;

use tokio::time::{sleep, timeout};

use super::{Backoff, Ctx, jsonp_argument, ok_body};
use crate::experiment::net::{Link, request};
use crate::experiment::tally::{Batch, Tally};

/// The JSONP page gives a script up after 10 s; the others get the same limit here.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A filled-in registration, as a user would send it (`templates/techniques/piggyback…`).
const FORM: &str =
    "name=Ada+Lovelace&email=ada%40example.org&seats=2&country=GB&postal_code=SW1A+1AA";

#[derive(Clone, Copy)]
pub enum Kind {
    Fetch,
    Jsonp,
    Piggyback,
}

pub async fn run(kind: Kind, ctx: &Ctx, tally: &mut Tally) {
    let mut link = Link::new(ctx.addr, &ctx.meter);
    let mut since = ctx.start.clone();
    let mut backoff = Backoff::default();
    for call in 1u64.. {
        tally.requests += 1;
        let answer = timeout(TIMEOUT, once(kind, ctx, &mut link, &since, call)).await;
        let wait = match answer.unwrap_or_else(|_| Err("no answer within 10 s".to_owned())) {
            Ok(batch) => {
                backoff.reset();
                if let Some(next) = &batch.next {
                    since.clone_from(next);
                }
                tally.batch(&batch);
                ctx.interval
            }
            Err(e) => {
                link.drop_connection();
                ctx.warn(&e);
                ctx.interval.max(backoff.fail())
            }
        };
        sleep(wait).await;
    }
}

/// One poll: the request the page sends, and its answer read as a batch.
async fn once(
    kind: Kind,
    ctx: &Ctx,
    link: &mut Link,
    since: &str,
    call: u64,
) -> Result<Batch, String> {
    let events = format!("/api/channels/{}/events", ctx.channel);
    let callback = format!("ReverseAjax.jsonp.cb{call}");
    let form = format!("{FORM}&since={}", super::encode(since));
    let bytes = match kind {
        Kind::Fetch => {
            let target = events + &ctx.query(&[("since", since)]);
            request("GET", &target, &ctx.host, &[("Accept", "*/*")], "")
        }
        Kind::Jsonp => {
            let target = events + &ctx.query(&[("since", since), ("callback", &callback)]);
            request("GET", &target, &ctx.host, &[("Accept", "*/*")], "")
        }
        Kind::Piggyback => {
            let target = format!("/piggyback{}", ctx.query(&[("channel", &ctx.channel)]));
            let kind = (
                "Content-Type",
                "application/x-www-form-urlencoded;charset=UTF-8",
            );
            request(
                "POST",
                &target,
                &ctx.host,
                &[("Accept", "*/*"), kind],
                &form,
            )
        }
    };
    let (head, body) = link.send(&bytes).await?;
    let body = ok_body(link, (&head, body), "the poll").await?;
    let json = match kind {
        Kind::Jsonp => jsonp_argument(&body)?,
        Kind::Fetch | Kind::Piggyback => &body,
    };
    if let Kind::Piggyback = kind
        && !String::from_utf8_lossy(json).contains("\"valid\":true")
    {
        return Err("the registration form was refused".to_owned());
    }
    serde_json::from_slice(json).map_err(|e| format!("an answer that is not a batch: {e}"))
}
