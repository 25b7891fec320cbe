//! The clients that ask on a timer: HTTP polling (`fetch`), JSONP polling (a `<script>` per
//! poll) and piggyback (the registration form, sent every interval). As in the client
//! library's poll loop (`static/client/transports/poll.js`), the next wait starts when the
//! previous answer is in.

use std::time::Duration;

use tokio::time::{sleep, timeout};

use super::{Ctx, Life, jsonp_argument, ok_body};
use crate::load::conn::{Link, request};
use crate::load::peer::encode;
use crate::load::tally::{Stamp, Tally};

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
    let mut life = Life::new(ctx);
    let mut link = Link::new(ctx.addr, &ctx.meter);
    let mut since = ctx.start.clone();
    for call in 1u64.. {
        tally.requests += 1;
        life.begin().await;
        let answer = timeout(TIMEOUT, once(kind, ctx, &mut link, &since, call)).await;
        let wait = match answer.unwrap_or_else(|_| Err("no answer within 10 s".to_owned())) {
            Ok((body, fresh)) => {
                life.opened(tally, fresh);
                match answer_of(kind, &body, &mut since, tally) {
                    Ok(()) => {
                        life.ok();
                        Some(ctx.interval)
                    }
                    Err(e) => life.failed(&e).map(|pause| pause.max(ctx.interval)),
                }
            }
            Err(e) => {
                link.drop_connection();
                life.failed(&e).map(|pause| pause.max(ctx.interval))
            }
        };
        match wait {
            Some(wait) => sleep(wait).await,
            None => return,
        }
    }
}

/// Reads a poll's answer into the tally, and moves the cursor to its `next`.
fn answer_of(kind: Kind, body: &[u8], since: &mut String, tally: &mut Tally) -> Result<(), String> {
    let stamp = Stamp::now();
    let json = match kind {
        Kind::Jsonp => jsonp_argument(body)?,
        Kind::Fetch | Kind::Piggyback => body,
    };
    if let Kind::Piggyback = kind
        && !String::from_utf8_lossy(json).contains("\"valid\":true")
    {
        return Err("the registration form was refused".to_owned());
    }
    tally.batch(json, since, stamp)
}

/// One poll: the request the page sends, and its answer's body (with true when it took a
/// new connection).
async fn once(
    kind: Kind,
    ctx: &Ctx,
    link: &mut Link,
    since: &str,
    call: u64,
) -> Result<(Vec<u8>, bool), String> {
    let events = ctx.peer.publish();
    let callback = format!("ReverseAjax.jsonp.cb{call}");
    let form = format!("{FORM}&since={}", encode(since));
    let bytes = match kind {
        Kind::Fetch => {
            let target = events + &ctx.peer.query(&[("since", since)]);
            request("GET", &target, &ctx.host, &[("Accept", "*/*")], "")
        }
        Kind::Jsonp => {
            let target = events + &ctx.peer.query(&[("since", since), ("callback", &callback)]);
            request("GET", &target, &ctx.host, &[("Accept", "*/*")], "")
        }
        Kind::Piggyback => {
            let query = ctx.peer.query(&[("channel", ctx.peer.channel())]);
            let target = format!("/piggyback{query}");
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
    let mut fresh = false;
    let (head, body) = link.send_noting(&bytes, &mut |new| fresh = new).await?;
    let body = ok_body(link, (&head, body), "the poll").await?;
    Ok((body, fresh))
}
