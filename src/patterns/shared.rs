//! Patterns shared by every instance on the Redis backend.
//!
//! A choice is stored in Redis ([`Choices`]); exactly one instance runs it, the holder of
//! the channel's lease. Every instance beats every third of `lease_ms`: for each visitor
//! channel it has had a listener on within `idle_ms`, and each it runs a pattern on, it marks
//! its listeners in the channel's audience and takes or renews the lease if nobody else holds
//! it; then it starts, replaces or stops its own run to match. So a pattern runs while any
//! instance has a listener, once, and another instance takes it over within `lease_ms` of its
//! holder's death (at its next beat when the holder shut down cleanly and gave it up). The
//! holder also renews the pattern's seat among the site's `max_running`.

use std::collections::HashMap;

use super::{Pattern, Registry, registry::Refusal};
use crate::hub::redis::Choices;
use crate::hub::{Channel, Hub};
use crate::wire::visitor;

/// [`Registry::set`] on Redis: takes a seat (unless `Quiet`), stores the choice, and runs it
/// here if this instance gets the lease; otherwise the holder picks the change up at its
/// next beat.
pub(super) async fn set(
    registry: &Registry,
    hub: &Hub,
    channel: &Channel,
    pattern: Pattern,
) -> Result<(), Refusal> {
    let Some(site) = registry.site() else {
        return registry.run_here(hub, channel, pattern, true);
    };
    let (choices, me, timing) = (&site.choices, site.me.as_str(), registry.timing());
    if pattern == Pattern::Quiet {
        choices.set(channel, me, pattern.name(), timing).await?;
        choices.unseat(channel).await?;
        if registry.stop_here(channel) {
            choices.release(channel, me, timing).await?;
        }
        return Ok(());
    }
    let max = registry.config().max_running;
    if !choices.seat(channel, max, timing).await? {
        return Err(Refusal::Full(max));
    }
    let lease = choices.set(channel, me, pattern.name(), timing).await?;
    if lease.held {
        registry.run_here(hub, channel, pattern, false)?;
    }
    Ok(())
}

/// Beats until the registry closes.
pub(super) async fn beat(registry: Registry, hub: Hub) {
    let mut ticks = tokio::time::interval(registry.config().beat());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = registry.closing().cancelled() => break,
        }
        beat_once(&registry, &hub).await;
    }
}

/// One beat over the channels this instance listens to or runs.
async fn beat_once(registry: &Registry, hub: &Hub) {
    let Some(site) = registry.site() else { return };
    let idle = registry.config().idle();
    let mut channels: HashMap<Channel, Option<u64>> = registry
        .audience()
        .recent(idle)
        .into_iter()
        .filter(|(channel, _)| visitor::is_own(channel.as_str()))
        .map(|(channel, ago)| {
            let ms = u64::try_from(ago.as_millis()).unwrap_or(u64::MAX);
            (channel, Some(ms))
        })
        .collect();
    for channel in registry.channels() {
        channels.entry(channel).or_insert(None);
    }
    for (channel, ago) in channels {
        if registry.closing().is_cancelled() {
            return;
        }
        follow(registry, hub, &site.choices, &site.me, &channel, ago).await;
    }
}

/// Marks `channel`'s listeners here and makes this instance's run match what Redis says.
async fn follow(
    registry: &Registry,
    hub: &Hub,
    choices: &Choices,
    me: &str,
    channel: &Channel,
    ago: Option<u64>,
) {
    let timing = registry.timing();
    let lease = match choices.beat(channel, me, ago, timing).await {
        Ok(lease) => lease,
        Err(error) => {
            // Without Redis the lease cannot be renewed: another instance may take it over,
            // so this one stops rather than tick twice.
            if registry.stop_here(channel) {
                rocket::warn!("stopped the pattern of `{channel}`: {error}");
            }
            return;
        }
    };
    let pattern = lease
        .pattern
        .as_deref()
        .and_then(|name| Pattern::parse(name).ok())
        .filter(|p| *p != Pattern::Quiet);
    let Some(pattern) = pattern else {
        // Stopped on the site (idle, or chosen `quiet`): free its seat if it ran here.
        if registry.stop_here(channel) {
            let _ignored = choices.unseat(channel).await; // it lapses anyway
        }
        return;
    };
    if !lease.held {
        registry.stop_here(channel);
        return;
    }
    let max = registry.config().max_running;
    match choices.seat(channel, max, timing).await {
        Ok(true) => {
            // Counted by the seat; `run_here` refuses nothing uncounted.
            let _counted = registry.run_here(hub, channel, pattern, false);
        }
        Ok(false) | Err(_) => {
            registry.stop_here(channel);
            let _ignored = choices.release(channel, me, timing).await; // it lapses anyway
        }
    }
}
