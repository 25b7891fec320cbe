//! Live fan-out for one instance: ONE Redis pub/sub connection (a pattern subscription on
//! `<prefix>:live:*`) feeding one local window per channel that has subscribers here.
//!
//! Pub/sub is fire-and-forget, so the task checks every message's `seq` against the last one in
//! that channel's window: an older one is a duplicate and is dropped, a newer one after a
//! hole (a lost message, a reconnect) first fetches the missing events from the stream and
//! appends them in order. After a reconnect every channel with local subscribers catches up
//! from the stream the same way. A hole the stream cannot fill any more is passed on, and the
//! subscription ends as lagged: the client resumes from its cursor and learns of the reset.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::{PubSubSink, PubSubStream};
use rocket::futures::StreamExt;
use tokio::sync::oneshot;

use super::Shared;
use super::local::Next;
use super::replay::{Range, envelope};
use crate::hub::feed::Feed;
use crate::hub::{Channel, EventId};

/// The first pause after a failed connection attempt; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often the pub/sub connection is checked with a PING (a dead peer sends no FIN).
const PING_EVERY: Duration = Duration::from_secs(5);

/// Why [`listen`] returned.
enum Ended {
    Stopped,
    Lost(String),
}

/// The fan-out task: connects, listens, and reconnects with capped exponential back-off until
/// `stop` fires or the hub is dropped. Logs once when the link is lost and once when it is back.
pub(super) async fn run(shared: Weak<Shared>, mut stop: oneshot::Receiver<()>) {
    let mut backoff = MIN_BACKOFF;
    let mut down = false;
    loop {
        let Some(hub) = shared.upgrade() else { return };
        let connected = tokio::select! {
            connected = connect(&hub) => connected,
            _ = &mut stop => return,
        };
        match connected {
            Ok((sink, stream)) => {
                if std::mem::take(&mut down) {
                    rocket::info!("Redis fan-out: connected again; catching up from the streams");
                }
                backoff = MIN_BACKOFF;
                heal_all(&hub).await;
                drop(hub);
                match listen(&shared, sink, stream, &mut stop).await {
                    Ended::Stopped => return,
                    Ended::Lost(why) => {
                        rocket::warn!("Redis fan-out: connection lost ({why}); reconnecting");
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

async fn connect(hub: &Shared) -> Result<(PubSubSink, PubSubStream), String> {
    let attempt = async {
        let (mut sink, stream) = hub.client.get_async_pubsub().await?.split();
        sink.psubscribe(hub.topic_pattern()).await?;
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
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    return Ended::Lost("the server closed the connection".to_owned());
                };
                let Some(hub) = shared.upgrade() else { return Ended::Stopped };
                deliver(&hub, &message).await;
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

/// Handles one pub/sub message: `<epoch> <seq> <at> <data>` on `<prefix>:live:<channel>`.
async fn deliver(hub: &Shared, message: &redis::Msg) {
    let name = message.get_channel_name();
    let Some(channel) = name
        .rsplit_once(":live:")
        .and_then(|(_, ch)| Channel::parse(ch).ok())
    else {
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
    // Most messages of the pattern are for channels nobody here listens to: decide first.
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
async fn catch_up(hub: &Shared, feed: &Feed, epoch: &str, from: u64, until: Option<u64>) {
    let cursor = EventId::new(epoch, from);
    let Ok(snap) = hub.snapshot(feed.channel(), Range::After(&cursor)).await else {
        return; // Redis is unreachable: the next reconnect heals, or the subscriber lags.
    };
    if &*snap.epoch != epoch {
        // A new history (Redis lost or rolled back the old one): the window starts over at
        // once, and its subscribers end and resume to a reset.
        hub.local.settle(feed, &snap.epoch, snap.head);
        return;
    }
    let Ok(events) = hub.events(feed.channel(), &snap) else {
        return;
    };
    for event in events {
        if until.is_some_and(|until| event.id.seq >= until) {
            break;
        }
        hub.local.push(feed, event);
    }
}

/// After a (re)connect: every channel with local subscribers catches up from its stream.
async fn heal_all(hub: &Shared) {
    for (feed, epoch, from) in hub.local.active() {
        catch_up(hub, &feed, &epoch, from, None).await;
    }
}

/// Refreshes the expiry of the meta hash of every channel watched here.
async fn keep_alive(hub: &Shared) {
    let active = hub.local.active();
    if active.is_empty() {
        return;
    }
    let mut pipe = redis::pipe();
    for (feed, _, _) in active {
        pipe.cmd("PEXPIRE")
            .arg(hub.meta_key(feed.channel()))
            .arg(hub.key_ttl_ms())
            .ignore();
    }
    let mut commands = hub.commands.clone();
    let touch = pipe.query_async::<()>(&mut commands);
    // On failure Redis is away, the fan-out link notices it, and the next round tries again.
    let _touched = tokio::time::timeout(super::COMMAND_TIMEOUT, touch).await;
}
