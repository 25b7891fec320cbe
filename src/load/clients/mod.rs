//! The simulated clients: one module per family of techniques, each speaking its technique
//! as the page's script in `static/js/techniques/` does (same URLs, cursor handling,
//! reconnections), or as Nchan's subscribers speak it. This module holds what they share:
//! the run's [`Ctx`], the [`Pace`] at which a client comes back, and [`Life`], which times
//! the first connect and decides every pause.

mod long_poll;
mod parser;
mod polling;
mod streams;
mod websocket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{Semaphore, SemaphorePermit, watch};
use tokio::time::sleep;

use super::conn::{Link, Meter};
use super::http::{Body, Head};
use super::peer::Peer;
use super::tally::Tally;
use crate::wire::Technique;

/// Connects in flight at once across a run's subscribers ([`Pace::Subscriber`]).
const IN_FLIGHT: usize = 200;
/// The longest a subscriber's connect may take, up to the response head.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Tries of a subscriber's first connect before it gives up.
const FIRST_TRIES: u32 = 3;

/// How a client comes back after a session ends or fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// As the pages' scripts: failures back off from 1 s up to 30 s, a stream ended on
    /// purpose is opened again at once (an SSE stream after the server's `retry:`), and a
    /// client never gives up.
    Browser,
    /// As the benchmark's subscribers: at most [`IN_FLIGHT`] connects at once, the first one
    /// timed and given up after three tries; every reconnection at once, after a failure
    /// 100 ms later.
    Subscriber,
}

/// Where the clients' trouble goes: the first `shown` messages are passed on, the rest
/// only counted.
pub struct Warnings {
    sink: Box<dyn Fn(&str) + Send + Sync>,
    shown: usize,
    count: AtomicUsize,
}

impl Warnings {
    pub fn new(shown: usize, sink: impl Fn(&str) + Send + Sync + 'static) -> Warnings {
        Warnings {
            sink: Box::new(sink),
            shown,
            count: AtomicUsize::new(0),
        }
    }

    pub fn warn(&self, what: &str) {
        let n = self.count.fetch_add(1, Ordering::Relaxed);
        if n < self.shown {
            (self.sink)(what);
        } else if n == self.shown {
            (self.sink)("(more client errors are counted, not shown)");
        }
    }

    /// Warnings so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

/// What every client of one run shares.
pub struct Ctx {
    pub addr: SocketAddr,
    /// The `Host` header.
    pub host: String,
    pub peer: Peer,
    pub pace: Pace,
    /// The cursor a client starts from (a page's `data-next`); empty for "from now".
    pub start: String,
    /// Between two polls or form posts.
    pub interval: Duration,
    pub meter: Arc<Meter>,
    pub warnings: Arc<Warnings>,
    /// The connect slots of [`Pace::Subscriber`], shared with every [`Ctx::on`] of this one.
    gate: Arc<Semaphore>,
    /// Clients whose first connect is over, whether it worked or not.
    pub connected: AtomicUsize,
    /// Clients that gave their first connect up.
    pub failed: AtomicUsize,
}

impl Ctx {
    pub fn new(addr: SocketAddr, host: String, peer: Peer, pace: Pace, warnings: Warnings) -> Ctx {
        Ctx {
            addr,
            host,
            peer,
            pace,
            start: String::new(),
            interval: Duration::from_secs(1),
            meter: Arc::new(Meter::default()),
            warnings: Arc::new(warnings),
            gate: Arc::new(Semaphore::new(IN_FLIGHT)),
            connected: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    /// The same run's clients on another server or channel: they share this context's connect
    /// slots, meter and warnings, but count their connects apart.
    pub fn on(&self, addr: SocketAddr, host: String, peer: Peer) -> Ctx {
        Ctx {
            addr,
            host,
            peer,
            pace: self.pace,
            start: self.start.clone(),
            interval: self.interval,
            meter: Arc::clone(&self.meter),
            warnings: Arc::clone(&self.warnings),
            gate: Arc::clone(&self.gate),
            connected: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    pub fn warn(&self, what: &str) {
        self.warnings.warn(what);
    }
}

/// Runs one client of `technique` from `delay` on until `stop` turns true, then hands its
/// tally back.
pub async fn client(
    ctx: Arc<Ctx>,
    technique: Technique,
    mut tally: Tally,
    delay: Duration,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    tokio::select! {
        biased;
        _ = stop.wait_for(|stopped| *stopped) => {}
        () = async {
            sleep(delay).await;
            run(technique, &ctx, &mut tally).await;
        } => {}
    }
    tally
}

/// Runs one client of `technique` until it gives up or the caller stops polling the future.
pub async fn run(technique: Technique, ctx: &Ctx, tally: &mut Tally) {
    use Technique::*;
    if !ctx.peer.speaks(technique) {
        ctx.warn(&format!("{technique}: the server has no such transport"));
        return;
    }
    match technique {
        Polling => polling::run(polling::Kind::Fetch, ctx, tally).await,
        JsonpPolling => polling::run(polling::Kind::Jsonp, ctx, tally).await,
        Piggyback => polling::run(polling::Kind::Piggyback, ctx, tally).await,
        ForeverIframe => streams::run(parser::Kind::Iframe, ctx, tally).await,
        MultipartStreaming => streams::run(parser::Kind::Multipart, ctx, tally).await,
        ServerSentEvents => streams::run(parser::Kind::Sse, ctx, tally).await,
        ScriptLongPolling => long_poll::run(long_poll::Kind::Script, ctx, tally).await,
        LongPolling => long_poll::run(long_poll::Kind::Fetch, ctx, tally).await,
        WebSocket => websocket::run(ctx, tally).await,
    }
}

/// One client's life between its sessions: it times the first connect, holds a connect
/// slot while a subscriber connects, and decides each pause by the run's [`Pace`].
pub struct Life<'a> {
    ctx: &'a Ctx,
    backoff: Backoff,
    /// When the connect in progress began, and its slot.
    opening: Option<(Instant, Option<SemaphorePermit<'a>>)>,
    /// True once a first session was established.
    up: bool,
    first_tries: u32,
}

impl<'a> Life<'a> {
    pub fn new(ctx: &'a Ctx) -> Life<'a> {
        Life {
            ctx,
            backoff: Backoff::default(),
            opening: None,
            up: false,
            first_tries: 0,
        }
    }

    /// A connect begins; a subscriber waits for a slot first.
    pub async fn begin(&mut self) {
        let permit = match self.ctx.pace {
            Pace::Subscriber => self.ctx.gate.acquire().await.ok(),
            Pace::Browser => None,
        };
        self.opening = Some((Instant::now(), permit));
    }

    /// The longest the opening of a session may take, up to its response head.
    pub fn open_timeout(&self) -> Duration {
        OPEN_TIMEOUT
    }

    /// The session is established (a response head, a handshake, a held request written);
    /// `fresh` when it took a new connection.
    pub fn opened(&mut self, tally: &mut Tally, fresh: bool) {
        let Some((began, _slot)) = self.opening.take() else {
            return;
        };
        if !self.up {
            self.up = true;
            let took = u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX);
            tally.connect_us = Some(took);
            self.ctx.connected.fetch_add(1, Ordering::SeqCst);
        } else if fresh {
            tally.reconnects += 1;
        }
    }

    /// A session or an answer went well: the back-off starts over.
    pub fn ok(&mut self) {
        self.backoff.reset();
    }

    /// A session failed. Returns the pause before the next try, or `None` when the client
    /// gives up (a subscriber whose first connect failed three times).
    pub fn failed(&mut self, why: &str) -> Option<Duration> {
        self.opening = None;
        match self.ctx.pace {
            Pace::Browser => {
                self.ctx.warn(why);
                Some(self.backoff.fail())
            }
            Pace::Subscriber if self.up => {
                self.ctx.warn(why);
                Some(Duration::from_millis(100))
            }
            Pace::Subscriber => {
                self.first_tries += 1;
                let n = self.first_tries;
                self.ctx
                    .warn(&format!("first connect, try {n} of {FIRST_TRIES}: {why}"));
                if n < FIRST_TRIES {
                    return Some(Duration::from_millis(200));
                }
                self.ctx.failed.fetch_add(1, Ordering::SeqCst);
                self.ctx.connected.fetch_add(1, Ordering::SeqCst);
                None
            }
        }
    }

    /// The pause after the server ended a session without fault: `browser` for a browser
    /// (none, the server's `retry:`), none for a subscriber.
    pub fn again_after(&self, browser: Duration) -> Duration {
        match self.ctx.pace {
            Pace::Browser => browser,
            Pace::Subscriber => Duration::ZERO,
        }
    }

    /// The pause after the server sent a client away (`shutdown`, a close it gave no
    /// reason for): a browser backs off, a subscriber comes back at once.
    pub fn again_later(&mut self) -> Duration {
        match self.ctx.pace {
            Pace::Browser => self.backoff.fail(),
            Pace::Subscriber => Duration::ZERO,
        }
    }
}

/// The whole body of an answer that must be a 200; `what` names the request in the error.
pub async fn ok_body(
    link: &mut Link,
    (head, body): (&Head, Body),
    what: &str,
) -> Result<Vec<u8>, String> {
    let body = link.body(head, body).await?;
    if head.status != 200 {
        return Err(format!(
            "{what} answered {}: {}",
            head.status,
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(body)
}

/// The argument of a JSONP answer `/**/name({…});` (leading spaces allowed).
pub fn jsonp_argument(body: &[u8]) -> Result<&[u8], String> {
    let open = body.iter().position(|&b| b == b'(');
    let close = body.iter().rposition(|&b| b == b')');
    match (open, close) {
        (Some(open), Some(close)) if open < close => Ok(&body[open + 1..close]),
        _ => Err("an answer that is not a JSONP call".to_owned()),
    }
}

/// A capped exponential back-off: 1 s doubling up to 30 s, each pause drawn between half and
/// all of its ceiling.
#[derive(Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn fail(&mut self) -> Duration {
        let ceiling = (1000u64 << self.failures.min(5)).min(30_000);
        self.failures += 1;
        Duration::from_millis(rand::thread_rng().gen_range(ceiling / 2..=ceiling))
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argument_of_a_jsonp_call() {
        let body = b"  /**/ReverseAjax.jsonp.cb1({\"events\":[]});";
        assert_eq!(jsonp_argument(body), Ok(&b"{\"events\":[]}"[..]));
        assert!(jsonp_argument(b"{}").is_err());
    }

    #[test]
    fn back_off_doubles_up_to_thirty_seconds() {
        let mut backoff = Backoff::default();
        let first = backoff.fail();
        assert!(first >= Duration::from_millis(500) && first <= Duration::from_secs(1));
        let last = (0..10).map(|_| backoff.fail()).last().unwrap();
        assert!(last >= Duration::from_secs(15) && last <= Duration::from_secs(30));
    }

    #[test]
    fn a_subscriber_gives_its_first_connect_up_after_three_tries() {
        let warnings = Warnings::new(0, |_| {});
        let peer = Peer::Nchan {
            channel: "c".to_owned(),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], 1));
        let ctx = Ctx::new(addr, addr.to_string(), peer, Pace::Subscriber, warnings);
        let mut life = Life::new(&ctx);
        assert_eq!(life.failed("no"), Some(Duration::from_millis(200)));
        assert_eq!(life.failed("no"), Some(Duration::from_millis(200)));
        assert_eq!(life.failed("no"), None);
        assert_eq!(ctx.failed.load(Ordering::SeqCst), 1);
        assert_eq!(ctx.connected.load(Ordering::SeqCst), 1);
        assert_eq!(ctx.warnings.count(), 3);
    }
}
