//! One measured run: fresh servers (one, or several instances of ours sharing a Redis), the
//! subscribers connected, a second of quiet, the publisher at its rate, then waiting until
//! every subscriber has every event (or 15 s after the last publish), with CPU, memory and
//! time read around each step.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reverse_ajax::load::clients::{self, Ctx, Pace, Warnings};
use reverse_ajax::load::procfs;
use reverse_ajax::load::publisher::{self, Publisher, Spread};
use reverse_ajax::load::{Peer, Tally};
use tokio::sync::watch;

use crate::args::Options;
use crate::cases::Case;
use crate::machine::{Snapshot, Window};
use crate::pool::Pool;
use crate::servers::{Kind, Server};
use crate::site::Site;
use crate::stats::{self, Figures, Readings};

/// The channel every run publishes and subscribes on (`bench-<n>` when a case has several).
const CHANNEL: &str = "bench";
/// Subscriber errors printed before the rest are only counted.
const SHOWN_ERRORS: usize = 10;
/// Publishers' lanes above 100 events per second.
const LANES: usize = 4;

/// How long after the last publish the run waits for missing events.
const GRACE: Duration = Duration::from_secs(15);
/// How often the run looks at the counters while it waits.
const POLL: Duration = Duration::from_millis(5);
/// The counter of live messages an instance received from Redis.
const LIVE_MESSAGES: &str = "reverse_ajax_backend_messages_total";

/// Runs `case` once against new `kind` servers: one, or `case.instances` of ours sharing
/// the case's Redis.
pub async fn once(
    options: &Options,
    case: &Case,
    kind: Kind,
    pool: &mut Pool,
) -> Result<Figures, String> {
    if !options.no_wait {
        crate::machine::wait_quiet().await?;
    }
    let site = Site::of(case.backend)?;
    let mut env: Vec<(String, String)> = site.iter().map(Site::hub_env).collect();
    // The command line's variables come last, so they may override the hub too.
    env.extend(options.env.iter().cloned());
    let mut servers = Vec::with_capacity(case.instances);
    for _ in 0..case.instances.max(1) {
        // A server started already is killed on the early return (see `Server`'s drop).
        servers.push(match kind {
            Kind::Ours => Server::start_ours(&options.bin, &env).await?,
            Kind::Nchan => Server::start_nchan().await?,
        });
    }
    let figures = measure(case, &servers, site.as_ref(), pool).await;
    let mut stopped = Ok(());
    for server in servers {
        let result = server.stop().await;
        stopped = stopped.and(result);
    }
    if let Some(site) = &site
        && let Err(why) = site.clean()
    {
        eprintln!("    the run's Redis keys stay: {why}");
    }
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

/// The clients' contexts, one per server and channel: `[server * channels + channel]`.
/// They share one set of connect slots and warnings.
fn contexts(case: &Case, servers: &[Server]) -> Vec<Arc<Ctx>> {
    let warnings = Warnings::new(SHOWN_ERRORS, |what| {
        eprintln!("    subscriber error: {what}")
    });
    let channels = case.channels.max(1);
    let first = &servers[0];
    let base = Ctx::new(
        first.addr,
        first.addr.to_string(),
        peer(first.kind).nth(0, channels),
        Pace::Subscriber,
        warnings,
    );
    let mut all = Vec::with_capacity(servers.len() * channels);
    for server in servers {
        for channel in 0..channels {
            let peer = peer(server.kind).nth(channel, channels);
            all.push(base.on(server.addr, server.addr.to_string(), peer));
        }
    }
    all.into_iter().map(Arc::new).collect()
}

/// Subscriber `j`'s context (see [`Case::place`]).
fn context_of(j: usize, case: &Case) -> usize {
    let (server, channel) = case.place(j);
    server * case.channels.max(1) + channel
}

/// A counter summed over every context.
fn sum(ctxs: &[Arc<Ctx>], counter: fn(&Ctx) -> &AtomicUsize) -> usize {
    ctxs.iter().map(|c| counter(c).load(Ordering::SeqCst)).sum()
}

async fn measure(
    case: &Case,
    servers: &[Server],
    site: Option<&Site>,
    pool: &mut Pool,
) -> Result<Figures, String> {
    let pids: Vec<String> = servers.iter().map(Server::pid).collect();
    let rss_before_kb = rss_kb(&pids)?;
    let ctxs = contexts(case, servers);
    let complete = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = watch::channel(false);
    let tasks: Vec<_> = (0..case.subscribers)
        .map(|j| {
            let tally = Tally::new(case.per_channel()).counting_complete(Arc::clone(&complete));
            let ctx = Arc::clone(&ctxs[context_of(j, case)]);
            let subscriber =
                clients::client(ctx, case.technique, tally, Duration::ZERO, stopped.clone());
            pool.spawn(subscriber)
        })
        .collect();
    let outcome = publish_and_wait(case, servers, site, &ctxs, &complete).await;
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
        events: case.per_channel(),
        publishes: case.events(),
        first_publish,
        window,
        rss_before_kb,
        rss_after_kb: published.rss_after_kb,
        publish_failures: published.failed,
        publish_late: published.late,
        failed_subscribers: sum(&ctxs, |c| &c.failed),
        errors: ctxs[0].warnings.count(),
        live_messages: published.live_messages,
        instance_of: (0..case.subscribers).map(|j| case.place(j).0).collect(),
        redis: site.is_some(),
    };
    Ok(stats::figures(tallies, &readings))
}

/// The memory of every server process together.
fn rss_kb(pids: &[String]) -> Result<u64, String> {
    pids.iter().map(|pid| procfs::rss_kb(pid)).sum()
}

/// What publishing gave, with the memory reading taken just before it.
struct Published {
    failed: u64,
    late: Duration,
    rss_after_kb: u64,
    /// Live messages each instance received from Redis, when the hub is Redis.
    live_messages: Vec<u64>,
}

/// Waits for the subscribers, publishes, and waits for the deliveries. Returns the time of
/// the first publish and the CPU window from it to the end.
async fn publish_and_wait(
    case: &Case,
    servers: &[Server],
    site: Option<&Site>,
    ctxs: &[Arc<Ctx>],
    complete: &AtomicUsize,
) -> Result<(Instant, Window, Published), String> {
    let pids: Vec<String> = servers.iter().map(Server::pid).collect();
    let redis_ms = || site.map_or(Ok(0.0), Site::cpu_ms);
    let subscribers = case.subscribers;
    // Every subscriber connected (or failed for good); at most 30 s per 200 of them.
    let limit = Duration::from_secs(30 + 30 * (subscribers as u64).div_ceil(200));
    let started = Instant::now();
    while sum(ctxs, |c| &c.connected) < subscribers {
        if started.elapsed() > limit {
            let done = sum(ctxs, |c| &c.connected);
            return Err(format!(
                "only {done} of {subscribers} subscribers connected in time"
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    let failed = sum(ctxs, |c| &c.failed);
    if failed == subscribers {
        return Err("no subscriber could connect".to_owned());
    }
    // One second of quiet: the server settles, and held long polls are surely held.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // For long polls this is also the wait after every first request was written.
    let rss_after_kb = rss_kb(&pids)?;
    let before = Snapshot::take(&pids, redis_ms()?)?;
    let first_publish = before.at;
    let first = &servers[0];
    // Several instances: the lanes go round them, as many lanes on each.
    let lanes = if case.rate > 100 { LANES } else { 1 };
    let (lanes, spread_over) = if servers.len() > 1 {
        let n = servers.len();
        (
            lanes.div_ceil(n) * n,
            servers.iter().map(|s| s.addr).collect(),
        )
    } else {
        (lanes, Vec::new())
    };
    let publisher = Publisher {
        addr: first.addr,
        host: first.addr.to_string(),
        peer: peer(first.kind),
        schedule: publisher::steady(case.rate, case.events()),
        start: first_publish.into(),
        lanes,
        stored: AtomicU64::new(0),
        warnings: Warnings::new(usize::MAX, |what| eprintln!("    {what}")),
        spread: Spread {
            channels: case.channels,
            servers: spread_over,
        },
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
    let redis_after = redis_ms()?;
    let after = Snapshot::take(&pids, redis_after)?;
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
    let mut live_messages = Vec::new();
    if site.is_some() {
        for server in servers {
            live_messages.push(server.counter(LIVE_MESSAGES).await?);
        }
    }
    let published = Published {
        failed,
        late,
        rss_after_kb,
        live_messages,
    };
    Ok((first_publish, window, published))
}
