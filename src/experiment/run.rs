//! One technique's run: a fresh channel, N clients started at random moments over the first
//! interval, then the pattern's events for `seconds` (the same schedule for every technique),
//! then one interval and a half second more so that polling clients collect what is
//! pending, then the count.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};

use super::clients::{self, Ctx};
use super::net::Meter;
use super::server::Target;
use super::stats::Latency;
use super::tally::Tally;
use super::{Options, Progress, Technique, TechniqueResult, publisher};

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
    let (warnings, mut warned) = mpsc::unbounded_channel();
    let ctx = Arc::new(Ctx {
        addr: target.addr,
        host: target.host.clone(),
        channel,
        token: target.token.clone(),
        interval: options.interval,
        start,
        meter: Arc::new(Meter::default()),
        warnings,
        warned: AtomicUsize::new(0),
    });
    let cpu_before = target.cpu_ms();
    let began = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let mut clients = JoinSet::new();
    for _ in 0..options.clients {
        let (ctx, mut stopped) = (Arc::clone(&ctx), stopped.clone());
        let delay = options
            .interval
            .mul_f64(rand::thread_rng().gen_range(0.0..1.0));
        clients.spawn(async move {
            let mut tally = Tally::default();
            tokio::select! {
                biased;
                _ = stopped.wait_for(|s| *s) => {}
                () = async {
                    sleep(delay).await;
                    clients::run(technique, &ctx, &mut tally).await;
                } => {}
            }
            tally
        });
    }
    let published = Arc::new(AtomicU64::new(0));
    let publisher = {
        let (ctx, published, token) = (
            Arc::clone(&ctx),
            Arc::clone(&published),
            target.token.clone(),
        );
        let schedule = schedule.to_vec();
        let window = began + options.interval;
        tokio::spawn(async move {
            publisher::publish(&ctx, token.as_deref(), schedule, window, &published).await
        })
    };
    let end = began + length(options);
    while Instant::now() < end {
        sleep(TICK.min(end - Instant::now())).await;
        while let Ok(message) = warned.try_recv() {
            progress(Progress::Warning { technique, message });
        }
        progress(Progress::Tick {
            technique,
            elapsed: began.elapsed(),
            published: published.load(Ordering::SeqCst),
        });
    }
    // Nobody listens for the stop only if every client has already ended.
    let _ignored = stop.send(true);
    let published = publisher
        .await
        .map_err(|e| format!("the publisher failed: {e}"))?;
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
        let (distinct, extra) = tally.delivered(published);
        result.events += distinct;
        result.lost += published - distinct;
        result.duplicates += extra;
        result.requests += tally.requests;
        result.empty_answers += tally.empty;
        latencies.extend(tally.latencies_us);
    }
    result.latency_ms = Latency::of(&mut latencies);
    result
}
