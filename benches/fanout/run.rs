//! One measured run: a fresh server, the subscribers connected, a second of quiet, the
//! publisher at its rate, then waiting until every subscriber has every event (or 15 s after
//! the last publish), with CPU, memory and time read around each step.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reverse_ajax::load::clients::{self, Ctx, Pace, Warnings};
use reverse_ajax::load::procfs;
use reverse_ajax::load::publisher::{self, Publisher};
use reverse_ajax::load::{Peer, Tally};
use tokio::sync::watch;

use crate::args::Options;
use crate::cases::Case;
use crate::machine::{Snapshot, Window};
use crate::pool::Pool;
use crate::servers::{Kind, Server};
use crate::stats::{self, Figures, Readings};

/// The channel every run publishes and subscribes on.
const CHANNEL: &str = "bench";
/// Subscriber errors printed before the rest are only counted.
const SHOWN_ERRORS: usize = 10;
/// Publishers' lanes above 100 events per second.
const LANES: usize = 4;

/// How long after the last publish the run waits for missing events.
const GRACE: Duration = Duration::from_secs(15);
/// How often the run looks at the counters while it waits.
const POLL: Duration = Duration::from_millis(5);

/// Runs `case` once against a new `kind` server.
pub async fn once(
    options: &Options,
    case: &Case,
    kind: Kind,
    pool: &mut Pool,
) -> Result<Figures, String> {
    if !options.no_wait {
        crate::machine::wait_quiet().await?;
    }
    let server = match kind {
        Kind::Ours => Server::start_ours(&options.bin, &options.env).await?,
        Kind::Nchan => Server::start_nchan().await?,
    };
    let figures = measure(case, &server, pool).await;
    let stopped = server.stop().await;
    let figures = figures?;
    stopped?;
    Ok(figures)
}

/// The server as the load engine addresses it.
fn peer(kind: Kind) -> Peer {
    let channel = CHANNEL.to_owned();
    match kind {
        Kind::Ours => Peer::Ours {
            channel,
            token: None,
        },
        Kind::Nchan => Peer::Nchan { channel },
    }
}

async fn measure(case: &Case, server: &Server, pool: &mut Pool) -> Result<Figures, String> {
    let pid = server.pid();
    let events = case.events();
    let rss_before_kb = procfs::rss_kb(&pid)?;
    let warnings = Warnings::new(SHOWN_ERRORS, |what| {
        eprintln!("    subscriber error: {what}")
    });
    let (addr, host) = (server.addr, server.addr.to_string());
    let ctx = Arc::new(Ctx::new(
        addr,
        host,
        peer(server.kind),
        Pace::Subscriber,
        warnings,
    ));
    let complete = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = watch::channel(false);
    let tasks: Vec<_> = (0..case.subscribers)
        .map(|_| {
            let tally = Tally::new(events).counting_complete(Arc::clone(&complete));
            let ctx = Arc::clone(&ctx);
            let subscriber =
                clients::client(ctx, case.technique, tally, Duration::ZERO, stopped.clone());
            pool.spawn(subscriber)
        })
        .collect();
    let outcome = publish_and_wait(case, server, &ctx, &complete).await;
    // Tell every subscriber to stop, and take their tallies back.
    if stop.send(true).is_err() {
        eprintln!("    every subscriber had stopped already");
    }
    let mut tallies = Vec::with_capacity(tasks.len());
    for task in tasks {
        match tokio::time::timeout(Duration::from_secs(10), task).await {
            Ok(Ok(tally)) => tallies.push(tally),
            Ok(Err(e)) => return Err(format!("a subscriber task failed: {e}")),
            Err(_) => return Err("a subscriber did not stop within 10 s".to_owned()),
        }
    }
    let (first_publish, window, published) = outcome?;
    let readings = Readings {
        subscribers: case.subscribers,
        events,
        first_publish,
        window,
        rss_before_kb,
        rss_after_kb: published.rss_after_kb,
        publish_failures: published.failed,
        publish_late: published.late,
        failed_subscribers: ctx.failed.load(Ordering::SeqCst),
        errors: ctx.warnings.count(),
    };
    Ok(stats::figures(tallies, &readings))
}

/// What publishing gave, with the memory reading taken just before it.
struct Published {
    failed: u64,
    late: Duration,
    rss_after_kb: u64,
}

/// Waits for the subscribers, publishes, and waits for the deliveries. Returns the time of
/// the first publish and the CPU window from it to the end.
async fn publish_and_wait(
    case: &Case,
    server: &Server,
    ctx: &Ctx,
    complete: &AtomicUsize,
) -> Result<(Instant, Window, Published), String> {
    let pid = server.pid();
    let subscribers = case.subscribers;
    // Every subscriber connected (or failed for good); at most 30 s per 200 of them.
    let limit = Duration::from_secs(30 + 30 * (subscribers as u64).div_ceil(200));
    let started = Instant::now();
    while ctx.connected.load(Ordering::SeqCst) < subscribers {
        if started.elapsed() > limit {
            let done = ctx.connected.load(Ordering::SeqCst);
            return Err(format!(
                "only {done} of {subscribers} subscribers connected in time"
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    let failed = ctx.failed.load(Ordering::SeqCst);
    if failed == subscribers {
        return Err("no subscriber could connect".to_owned());
    }
    // One second of quiet: the server settles, and held long polls are surely held.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // For long polls this is also the wait after every first request was written.
    let rss_after_kb = procfs::rss_kb(&pid)?;
    let before = Snapshot::take(&pid)?;
    let first_publish = before.at;
    let publisher = Publisher {
        addr: server.addr,
        host: server.addr.to_string(),
        peer: peer(server.kind),
        schedule: publisher::steady(case.rate, case.events()),
        start: first_publish.into(),
        lanes: if case.rate > 100 { LANES } else { 1 },
        stored: AtomicU64::new(0),
        warnings: Warnings::new(usize::MAX, |what| eprintln!("    {what}")),
    };
    let mut publisher = tokio::spawn(publisher::publish(Arc::new(publisher)));
    let hard_limit = Duration::from_secs(u64::from(case.seconds) * 3 + 60);
    let mut published_at: Option<Instant> = None;
    loop {
        tokio::time::sleep(POLL).await;
        let complete = complete.load(Ordering::Relaxed);
        if complete + failed >= subscribers {
            break;
        }
        if published_at.is_none() && publisher.is_finished() {
            published_at = Some(Instant::now());
        }
        if published_at.is_some_and(|at| at.elapsed() >= GRACE) {
            break;
        }
        if first_publish.elapsed() > hard_limit {
            eprintln!("    the publisher is still not done: ending the run");
            break;
        }
    }
    let after = Snapshot::take(&pid)?;
    let window = Window::between(&before, &after);
    // The last answer may still be on its way when every event has arrived.
    let waited = tokio::time::timeout(Duration::from_secs(15), &mut publisher).await;
    let (failed, late) = match waited {
        Ok(Ok(p)) => (p.failed, p.late),
        Ok(Err(e)) => return Err(format!("the publisher failed: {e}")),
        Err(_) => {
            publisher.abort();
            eprintln!("    the publisher was stopped before it was done");
            (case.events(), first_publish.elapsed())
        }
    };
    let published = Published {
        failed,
        late,
        rss_after_kb,
    };
    Ok((first_publish, window, published))
}
