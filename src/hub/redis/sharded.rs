//! Live fan-out on a Redis Cluster: sharded pub/sub. Each channel's topic lives in its slot
//! (`<prefix>:{<channel>}:live`), `publish.lua` announces with `SPUBLISH` from there, and the
//! instance `SSUBSCRIBE`s, through the `redis` crate's cluster connection on RESP3, to the
//! topics of the channels that have subscribers here; messages arrive as pushes.
//!
//! The crate keeps the subscriptions across reconnects and slot-map changes and says so with
//! an `ssubscribe` push: each one makes the channel's window catch up from its stream, so a
//! gap left by a failover or a lost link is filled (or, when the stream cannot fill it, the
//! window's subscribers resume to a reset). It does not always: a connection that dropped
//! under requests in flight came back with no subscription, so a `disconnection` push makes
//! the task subscribe every wanted topic again itself. When the server drops a subscription itself (its
//! slot migrated: an `sunsubscribe` push nobody asked for), the channel is subscribed again
//! where the slot lives now, then catches up the same way.
//!
//! A link can also go silent without dropping: a primary stopped past the node timeout keeps
//! its connections open while its replica takes the slots over, so the subscriptions held
//! there hear nothing more, and the crate (which reconnects on a dropped connection or a
//! `MOVED`) never learns of it. So every [`PING_EVERY`] each primary gets a `PING`; when one
//! does not answer within [`PROBE_TIMEOUT`] the whole link is replaced by a new connection,
//! which learns the slots afresh: every wanted topic is subscribed again on it and catches up
//! from its stream.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use redis::cluster_routing::{MultipleNodeRoutingInfo, ResponsePolicy, RoutingInfo, Slot};
use redis::{PushInfo, PushKind};
use rocket::futures::future::join_all;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::oneshot;

use super::fanout::{PING_EVERY, answered, catch_up, deliver, keep_alive, next_due, wanted};
use super::interest::Plan;
use super::link::{self, Commands};
use super::{COMMAND_TIMEOUT, Live, Shared};
use crate::hub::Channel;

/// How long a primary may take to answer the probe's `PING` before the link is replaced.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

pub(super) async fn run(shared: Weak<Shared>, mut stop: oneshot::Receiver<()>) {
    let Some(hub) = shared.upgrade() else { return };
    let Live::Cluster(pushes) = &hub.live else {
        return;
    };
    let pushes = Arc::clone(pushes);
    drop(hub);
    // A task stopped just before still holds it for a moment.
    let mut pushes = tokio::select! {
        pushes = pushes.lock_owned() => pushes,
        _ = &mut stop => return,
    };
    if let Some(hub) = shared.upgrade() {
        hub.local.interest.link(true);
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        let due = next_due(&shared);
        tokio::select! {
            push = pushes.recv() => {
                let (Some(push), Some(hub)) = (push, shared.upgrade()) else { break };
                on_push(&hub, push).await;
            }
            () = wanted(&shared) => {
                let Some(hub) = shared.upgrade() else { break };
                send_plan(&hub).await;
            }
            () = tokio::time::sleep_until(due) => {
                let Some(hub) = shared.upgrade() else { break };
                send_plan(&hub).await;
            }
            _ = ping.tick() => {
                let Some(hub) = shared.upgrade() else { break };
                if !probe(&hub).await {
                    relink(&hub, &mut pushes);
                }
                // Also retries what a round could not subscribe (a node was away).
                send_plan(&hub).await;
                keep_alive(&hub).await;
            }
            _ = &mut stop => break,
        }
    }
    if let Some(hub) = shared.upgrade() {
        hub.local.interest.link(false);
    }
}

/// True when every primary answers a `PING` in time.
async fn probe(hub: &Shared) -> bool {
    let Commands::Cluster(mut connection) = hub.commands() else {
        return true;
    };
    let everywhere = RoutingInfo::MultiNode((
        MultipleNodeRoutingInfo::AllMasters,
        Some(ResponsePolicy::AllSucceeded),
    ));
    let ping = connection.route_command(redis::cmd("PING"), everywhere);
    matches!(tokio::time::timeout(PROBE_TIMEOUT, ping).await, Ok(Ok(_)))
}

/// Replaces the cluster link with a new connection: nothing is subscribed on it yet, so the
/// next round subscribes every wanted topic, and each catches up from its stream. The old
/// connection closes once the commands still running on it are done.
fn relink(hub: &Shared, pushes: &mut UnboundedReceiver<PushInfo>) {
    let (commands, receiver) = match link::cluster(&hub.config, COMMAND_TIMEOUT) {
        Ok(opened) => opened,
        Err(why) => {
            rocket::warn!("Redis fan-out: cannot open a new cluster link ({why})");
            return;
        }
    };
    rocket::warn!("Redis fan-out: a cluster node did not answer the probe; opening a new link");
    hub.local.interest.link(false);
    *hub.commands.write().unwrap_or_else(PoisonError::into_inner) = commands;
    *pushes = receiver;
    hub.relinks.fetch_add(1, Ordering::Relaxed);
    hub.local.interest.link(true);
}

/// The topic a push is about (its first value), as a channel of this hub.
fn channel_of(hub: &Shared, push: &PushInfo) -> Option<Channel> {
    match push.data.first()? {
        redis::Value::BulkString(name) => hub.channel_of_topic(std::str::from_utf8(name).ok()?),
        _ => None,
    }
}

async fn on_push(hub: &Shared, push: PushInfo) {
    match push.kind {
        PushKind::SMessage => {
            if let Some(message) = redis::Msg::from_push_info(push) {
                deliver(hub, &message).await;
            }
        }
        PushKind::SSubscribe => {
            // (Re)subscribed: whatever was published while the topic was not, comes from the
            // stream.
            if let Some(channel) = channel_of(hub, &push) {
                heal(hub, &channel).await;
            }
        }
        PushKind::SUnsubscribe => {
            if let Some(channel) = channel_of(hub, &push) {
                hub.local.interest.lost(&channel);
            }
        }
        // One of the link's connections dropped. The crate subscribes again on the new one,
        // but not always (not when requests in flight failed with it): subscribe here too.
        PushKind::Disconnection => hub.local.interest.resubscribe_all(),
        _ => {}
    }
}

/// The channel's window catches up from its stream, if it has one here.
async fn heal(hub: &Shared, channel: &Channel) {
    let active = hub.local.active();
    if let Some((feed, epoch, from)) = active.iter().find(|(f, _, _)| f.channel() == channel) {
        catch_up(hub, feed, epoch, *from, None).await;
    }
}

/// Sends one round of interest changes, one `SSUBSCRIBE` / `SUNSUBSCRIBE` per slot (a sharded
/// command names topics of one slot only), all slots at once. A topic whose `SSUBSCRIBE`
/// fails stays wanted, and the next round tries it again.
async fn send_plan(hub: &Shared) {
    let Commands::Cluster(connection) = hub.commands() else {
        return;
    };
    let Plan {
        subscribe,
        unsubscribe,
    } = hub.local.interest.plan(tokio::time::Instant::now());
    let leaving = by_slot(hub, &unsubscribe).into_values().map(|(topics, _)| {
        let mut connection = connection.clone();
        // A failure leaves a subscription nobody reads; its messages are skipped.
        async move { answered(connection.sunsubscribe(topics)).await }
    });
    join_all(leaving).await;
    let joining = by_slot(hub, &subscribe)
        .into_values()
        .map(|(topics, channels)| {
            let mut connection = connection.clone();
            async move {
                match answered(connection.ssubscribe(topics)).await {
                    Ok(()) => {
                        hub.local.interest.confirmed(&channels);
                        for channel in &channels {
                            heal(hub, channel).await;
                        }
                    }
                    Err(why) => rocket::warn!("Redis fan-out: SSUBSCRIBE failed ({why}); retrying"),
                }
            }
        });
    join_all(joining).await;
}

/// The topics of `channels` (and the channels), grouped by hash slot.
fn by_slot(hub: &Shared, channels: &[Channel]) -> HashMap<Slot, (Vec<String>, Vec<Channel>)> {
    let mut groups: HashMap<Slot, (Vec<String>, Vec<Channel>)> = HashMap::new();
    for channel in channels {
        let topic = hub.topic(channel);
        let group = groups.entry(Slot::for_key(&topic)).or_default();
        group.0.push(topic);
        group.1.push(channel.clone());
    }
    groups
}
