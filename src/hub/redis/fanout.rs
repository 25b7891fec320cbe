//! Live fan-out for one instance: ONE Redis pub/sub connection, subscribed to the live topic
//! (`<prefix>:{<channel>}:live`) of each channel that has subscribers here (see [`interest`]),
//! feeding one local window per channel.
//!
//! Pub/sub is fire-and-forget, so the task checks every message's `seq` against the last one in
//! that channel's window: an older one is a duplicate and is dropped, a newer one after a
//! hole (a lost message, a reconnect, a topic subscribed late) first fetches the missing events
//! from the stream and appends them in order. After a (re)subscribe every channel concerned
//! catches up from the stream the same way. A hole the stream cannot fill any more starts the
//! window over after it: its subscribers end as lagged, resume from their cursor and learn of
//! the reset.
//!
//! [`interest`]: super::interest

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{PubSubSink, PubSubStream};
use rocket::futures::StreamExt;
use tokio::sync::oneshot;

use super::interest::Plan;
use super::local::Next;
use super::replay::{Range, envelope};
use super::{Live, Shared};
use crate::hub::EventId;
use crate::hub::feed::Feed;

/// The first pause after a failed connection attempt; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often the pub/sub connection is checked with a PING (a dead peer sends no FIN, and a
/// quiet link gives no other sign), so a detached link is found within seconds.
pub(super) const PING_EVERY: Duration = Duration::from_secs(2);
/// The most topics one `SUBSCRIBE` or `UNSUBSCRIBE` names.
pub(super) const BATCH: usize = 500;

/// Why [`listen`] returned.
enum Ended {
    Stopped,
    Lost(String),
}

/// The fan-out task, until `stop` fires or the hub is dropped.
pub(super) async fn run(shared: Weak<Shared>, stop: oneshot::Receiver<()>) {
    let client = match shared.upgrade().as_deref().map(|hub| &hub.live) {
        Some(Live::Single(client)) => client.clone(),
        Some(Live::Cluster(_)) => return super::sharded::run(shared, stop).await,
        None => return,
    };
    run_single(shared, client, stop).await;
}

/// On one server: connects, listens, and reconnects with capped exponential back-off. Logs
/// once when the link is lost and once when it is back.
async fn run_single(shared: Weak<Shared>, client: redis::Client, mut stop: oneshot::Receiver<()>) {
    let mut backoff = MIN_BACKOFF;
    let mut down = false;
    loop {
        let Some(hub) = shared.upgrade() else { return };
        let connected = tokio::select! {
            connected = connect(&client) => connected,
            _ = &mut stop => return,
        };
        match connected {
            Ok((sink, stream)) => {
                if std::mem::take(&mut down) {
                    rocket::info!("Redis fan-out: connected again; catching up from the streams");
                }
                backoff = MIN_BACKOFF;
                hub.local.interest.link(true);
                drop(hub);
                let ended = listen(&shared, sink, stream, &mut stop).await;
                let hub = shared.upgrade();
                if let Some(hub) = &hub {
                    hub.local.interest.link(false);
                }
                match ended {
                    Ended::Stopped => return,
                    Ended::Lost(why) => {
                        rocket::warn!("Redis fan-out: connection lost ({why}); reconnecting");
                        if let Some(hub) = hub {
                            hub.relinks.fetch_add(1, Ordering::Relaxed);
                        }
                        down = true;
                    }
                }
            }
            Err(why) => {
                if !std::mem::replace(&mut down, true) {
                    rocket::warn!("Redis fan-out: cannot connect ({why}); retrying with back-off");
                }
                drop(hub);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = &mut stop => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// When the listening loop must next wake for the interest plan: a topic's lingering
/// unsubscribe, or one ping interval from now when none is due.
pub(super) fn next_due(shared: &Weak<Shared>) -> tokio::time::Instant {
    shared
        .upgrade()
        .and_then(|hub| hub.local.interest.next_due())
        .unwrap_or_else(|| tokio::time::Instant::now() + PING_EVERY)
}

async fn connect(client: &redis::Client) -> Result<(PubSubSink, PubSubStream), String> {
    let attempt = async {
        let (sink, stream) = client.get_async_pubsub().await?.split();
        Ok::<_, redis::RedisError>((sink, stream))
    };
    match tokio::time::timeout(super::COMMAND_TIMEOUT, attempt).await {
        Ok(Ok(link)) => Ok(link),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("Redis did not answer in time".to_owned()),
    }
}

async fn listen(
    shared: &Weak<Shared>,
    mut sink: PubSubSink,
    mut stream: PubSubStream,
    stop: &mut oneshot::Receiver<()>,
) -> Ended {
    // A new connection subscribes to nothing: every wanted topic now, then every local
    // window catches up with what it missed while the link was away.
    {
        let Some(hub) = shared.upgrade() else {
            return Ended::Stopped;
        };
        if let Err(why) = send_plan(&hub, &mut sink).await {
            return Ended::Lost(why);
        }
        heal_all(&hub).await;
    }
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        let due = next_due(shared);
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    return Ended::Lost("the server closed the connection".to_owned());
                };
                let Some(hub) = shared.upgrade() else { return Ended::Stopped };
                deliver(&hub, &message).await;
            }
            () = wanted(shared) => {
                let Some(hub) = shared.upgrade() else { return Ended::Stopped };
                if let Err(why) = send_plan(&hub, &mut sink).await {
                    return Ended::Lost(why);
                }
            }
            () = tokio::time::sleep_until(due) => {
                let Some(hub) = shared.upgrade() else { return Ended::Stopped };
                if let Err(why) = send_plan(&hub, &mut sink).await {
                    return Ended::Lost(why);
                }
            }
            _ = ping.tick() => {
                let Some(hub) = shared.upgrade() else { return Ended::Stopped };
                let pong = tokio::time::timeout(
                    super::COMMAND_TIMEOUT,
                    sink.ping::<redis::Value>(),
                );
                if !matches!(pong.await, Ok(Ok(_))) {
                    return Ended::Lost("no answer to PING".to_owned());
                }
                // Keep the epochs of channels watched here alive while they are quiet.
                keep_alive(&hub).await;
            }
            _ = &mut *stop => return Ended::Stopped,
        }
    }
}

/// Resolves when the hub asks for a round of (un)subscribing; never while the hub is gone.
pub(super) async fn wanted(shared: &Weak<Shared>) {
    match shared.upgrade() {
        Some(hub) => {
            let interest = Arc::clone(&hub.local.interest);
            drop(hub);
            interest.wake.notified().await;
        }
        None => std::future::pending().await,
    }
}

/// Sends one round of interest changes: `UNSUBSCRIBE` for the topics idle long enough, then
/// `SUBSCRIBE` for the new ones, in batches; then the channels just subscribed catch up with
/// what was published before their subscription took hold. An error means the link is lost.
async fn send_plan(hub: &Shared, sink: &mut PubSubSink) -> Result<(), String> {
    let Plan {
        subscribe,
        unsubscribe,
    } = hub.local.interest.plan(tokio::time::Instant::now());
    for chunk in unsubscribe.chunks(BATCH) {
        let topics: Vec<String> = chunk.iter().map(|ch| hub.topic(ch)).collect();
        answered(sink.unsubscribe(topics)).await?;
    }
    for chunk in subscribe.chunks(BATCH) {
        let topics: Vec<String> = chunk.iter().map(|ch| hub.topic(ch)).collect();
        answered(sink.subscribe(topics)).await?;
        hub.local.interest.confirmed(chunk);
        for (feed, epoch, from) in hub.local.active() {
            if chunk.contains(feed.channel()) {
                catch_up(hub, &feed, &epoch, from, None).await;
            }
        }
    }
    Ok(())
}

/// Awaits a pub/sub command's confirmation with the command deadline.
pub(super) async fn answered(
    command: impl Future<Output = redis::RedisResult<()>>,
) -> Result<(), String> {
    match tokio::time::timeout(super::COMMAND_TIMEOUT, command).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("Redis did not confirm a subscription in time".to_owned()),
    }
}

/// Handles one pub/sub message: `<epoch> <seq> <at> <data>` on `<prefix>:{<channel>}:live`.
pub(super) async fn deliver(hub: &Shared, message: &redis::Msg) {
    hub.live_messages.fetch_add(1, Ordering::Relaxed);
    let Some(channel) = hub.channel_of_topic(message.get_channel_name()) else {
        return;
    };
    let Ok(payload) = std::str::from_utf8(message.get_payload_bytes()) else {
        return;
    };
    let mut parts = payload.splitn(4, ' ');
    let (Some(epoch), Some(seq), Some(at), Some(data)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let (Ok(seq), Ok(at)) = (seq.parse::<u64>(), at.parse::<i64>()) else {
        return;
    };
    // A topic that lingers after its last subscriber left brings messages nobody here needs.
    let (Next::After(from), Some(feed)) = hub.local.next(&channel, (epoch, seq), (at, data)) else {
        return;
    };
    let Ok(event) = envelope(&channel, EventId::new(epoch, seq), at, data) else {
        return;
    };
    if from + 1 < seq {
        catch_up(hub, &feed, epoch, from, Some(seq)).await;
    }
    hub.local.push(&feed, Arc::new(event));
}

/// Appends the stored events of `feed`'s channel after `from` (and before `until`), in order.
/// When the stream no longer holds the event after `from` the window starts over after the
/// hole (its subscribers resume to a reset); a new history starts it over at once.
pub(super) async fn catch_up(
    hub: &Shared,
    feed: &Feed,
    epoch: &str,
    from: u64,
    until: Option<u64>,
) {
    let cursor = EventId::new(epoch, from);
    let Ok(snap) = hub.snapshot(feed.channel(), Range::After(&cursor)).await else {
        return; // Redis is unreachable: the next reconnect heals, or the subscriber lags.
    };
    if &*snap.epoch != epoch {
        // A new history (Redis lost or rolled back the old one): the window starts over at
        // once, and its subscribers end and resume to a reset.
        hub.local.settle(feed, &snap.epoch, snap.head);
        hub.local.count_reset();
        return;
    }
    let Ok(events) = hub.events(feed.channel(), &snap) else {
        return;
    };
    let wanted = until.map_or(snap.head, |until| until - 1).min(snap.head);
    if wanted <= from {
        return;
    }
    match events.first() {
        Some(first) if first.id.seq == from + 1 => {
            hub.gap_repairs.fetch_add(1, Ordering::Relaxed);
        }
        // Trimmed away (or too old to replay): the hole cannot be filled.
        first => hub
            .local
            .skip_to(feed, first.map_or(wanted, |e| e.id.seq - 1)),
    }
    for event in events {
        if until.is_some_and(|until| event.id.seq >= until) {
            break;
        }
        hub.local.push(feed, event);
    }
}

/// After a (re)connect: every channel with local subscribers catches up from its stream.
pub(super) async fn heal_all(hub: &Shared) {
    for (feed, epoch, from) in hub.local.active() {
        catch_up(hub, &feed, &epoch, from, None).await;
    }
}

/// Refreshes the expiry of the meta hash of every channel watched here.
pub(super) async fn keep_alive(hub: &Shared) {
    let active = hub.local.active();
    if active.is_empty() {
        return;
    }
    // On failure Redis is away, the fan-out link notices it, and the next round tries again.
    if hub.cluster() {
        // The keys live in many slots: one command each, all at once.
        let touches = active.iter().map(|(feed, _, _)| {
            let mut commands = hub.commands();
            let mut touch = redis::cmd("PEXPIRE");
            touch
                .arg(hub.meta_key(feed.channel()))
                .arg(hub.key_ttl_ms());
            async move { touch.query_async::<()>(&mut commands).await }
        });
        let all = rocket::futures::future::join_all(touches);
        let _touched = tokio::time::timeout(super::COMMAND_TIMEOUT, all).await;
        return;
    }
    let mut pipe = redis::pipe();
    for (feed, _, _) in active {
        pipe.cmd("PEXPIRE")
            .arg(hub.meta_key(feed.channel()))
            .arg(hub.key_ttl_ms())
            .ignore();
    }
    let mut commands = hub.commands();
    let touch = pipe.query_async::<()>(&mut commands);
    let _touched = tokio::time::timeout(super::COMMAND_TIMEOUT, touch).await;
}
