//! One technique's run: a fresh channel, N clients started at random moments over the first
//! interval, then the pattern's events for `seconds` (the same schedule for every technique),
//! then one interval and a half second more so that polling clients collect what is
//! pending, then the count.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};

use super::server::Target;
use super::{Options, Progress, Technique, TechniqueResult};
use crate::load::clients::{self, Ctx, Pace, Warnings};
use crate::load::conn::Meter;
use crate::load::publisher::{self, Publisher, Spread};
use crate::load::stats::Latency;
use crate::load::{Peer, Tally};

/// Warnings passed on per technique run; the rest are only counted.
const SHOWN_WARNINGS: usize = 5;
/// Time after the last publish for the slowest client to collect it, on top of one interval.
const DRAIN_SLACK: Duration = Duration::from_millis(500);
/// How often progress is reported.
const TICK: Duration = Duration::from_millis(250);
/// How long stopped clients may take to hand back their tallies.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one technique's run takes in all.
pub fn length(options: &Options) -> Duration {
    options.interval * 2 + Duration::from_secs(options.seconds) + DRAIN_SLACK
}

pub async fn technique(
    target: &Target,
    options: &Options,
    technique: Technique,
    tag: &str,
    schedule: &[Duration],
    progress: &mut impl FnMut(Progress),
) -> Result<TechniqueResult, String> {
    let channel = format!("demo-exp-{tag}-{}", technique.slug());
    let start = target.head(&channel).await?;
    let (warned_tx, mut warned) = mpsc::unbounded_channel();
    let warnings = move |tx: mpsc::UnboundedSender<String>| {
        // The receiver is gone only once the run is over; nobody needs the warning then.
        Warnings::new(SHOWN_WARNINGS, move |what: &str| {
            let _ignored = tx.send(what.to_owned());
        })
    };
    let peer = Peer::Ours {
        channel,
        token: target.token.clone(),
    };
    let mut ctx = Ctx::new(
        target.addr,
        target.host.clone(),
        peer.clone(),
        Pace::Browser,
        warnings(warned_tx.clone()),
    );
    ctx.start = start;
    ctx.interval = options.interval;
    let ctx = Arc::new(ctx);
    let cpu_before = target.cpu_ms();
    let began = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let mut clients = JoinSet::new();
    for _ in 0..options.clients {
        let delay = options
            .interval
            .mul_f64(rand::thread_rng().gen_range(0.0..1.0));
        let tally = Tally::new(schedule.len() as u64);
        let client = clients::client(Arc::clone(&ctx), technique, tally, delay, stopped.clone());
        clients.spawn(client);
    }
    let publisher = Arc::new(Publisher {
        addr: target.addr,
        host: target.host.clone(),
        peer,
        schedule: schedule.to_vec(),
        start: began + options.interval,
        lanes: 1,
        stored: AtomicU64::new(0),
        warnings: warnings(warned_tx),
        spread: Spread::default(),
    });
    let published = Arc::clone(&publisher);
    let publishing = tokio::spawn(publisher::publish(publisher));
    let end = began + length(options);
    while Instant::now() < end {
        sleep(TICK.min(end - Instant::now())).await;
        while let Ok(message) = warned.try_recv() {
            progress(Progress::Warning { technique, message });
        }
        progress(Progress::Tick {
            technique,
            elapsed: began.elapsed(),
            published: published.stored.load(Ordering::SeqCst),
        });
    }
    // Nobody listens for the stop only if every client has already ended.
    let _ignored = stop.send(true);
    let published = publishing
        .await
        .map_err(|e| format!("the publisher failed: {e}"))?
        .stored;
    let mut tallies = Vec::new();
    let joined = tokio::time::timeout(JOIN_TIMEOUT, async {
        while let Some(tally) = clients.join_next().await {
            tallies.push(tally);
        }
    });
    if joined.await.is_err() {
        clients.abort_all();
    }
    let cpu_after = target.cpu_ms();
    let mut result = tally_up(technique, published, options.clients, tallies, &ctx.meter);
    result.server_cpu_ms = cpu_before.zip(cpu_after).map(|(a, b)| b.saturating_sub(a));
    Ok(result)
}

/// Adds the clients' tallies up. A client that never handed its tally back lost everything.
fn tally_up(
    technique: Technique,
    published: u64,
    clients: usize,
    tallies: Vec<Result<Tally, tokio::task::JoinError>>,
    meter: &Meter,
) -> TechniqueResult {
    let mut result = TechniqueResult {
        technique: technique.slug(),
        bytes_down: meter.down.load(Ordering::Relaxed),
        bytes_up: meter.up.load(Ordering::Relaxed),
        connections: meter.connections.load(Ordering::Relaxed),
        ..TechniqueResult::default()
    };
    let mut latencies = Vec::new();
    let returned = tallies.iter().filter(|t| t.is_ok()).count();
    result.lost = published * (clients - returned) as u64;
    for tally in tallies.into_iter().flatten() {
        result.events += tally.distinct();
        result.lost += published.saturating_sub(tally.distinct());
        result.duplicates += tally.duplicates;
        result.requests += tally.requests;
        result.empty_answers += tally.empty;
        latencies.extend(tally.latencies);
    }
    result.latency_ms = Latency::of(&mut latencies);
    result
}
