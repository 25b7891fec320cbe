//! Hash slots (Redis Cluster's 16,384 shards of the key space). A channel's keys carry the
//! hash tag `{<channel>}`, so they share one slot; the site state a script needs beside them
//! (see `site.lua`) is kept once per slot, under a tag of that slot, so that every script
//! touches one slot only. On one Redis server the same keys are simply many small hashes.

use std::collections::HashMap;
use std::sync::OnceLock;

use redis::cluster_routing::Slot;

use crate::hub::Channel;

/// How many slots Redis Cluster has.
const SLOTS: usize = 16_384;

/// A hash tag for every slot: the first `s<n>` (n = 0, 1, …) that hashes there, the same on
/// every instance.
fn tags() -> &'static HashMap<Slot, String> {
    static TAGS: OnceLock<HashMap<Slot, String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        let mut tags = HashMap::with_capacity(SLOTS);
        let mut n = 0_u64;
        while tags.len() < SLOTS {
            let tag = format!("s{n}");
            tags.entry(Slot::for_key(&tag)).or_insert(tag);
            n += 1;
        }
        tags
    })
}

/// The hash tag (without braces) of the slot `channel`'s keys live in.
pub(super) fn site_tag(channel: &Channel) -> &'static str {
    let slot = Slot::for_key(channel.as_str());
    // Every slot has a tag (the table is filled until it does).
    tags().get(&slot).map_or("s0", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channels_site_shares_its_slot() {
        for name in ["news", "room", "c1", "t.hub.1764720000000.42.7", "x"] {
            let channel = Channel::parse(name).unwrap();
            let meta = format!("rajax:{{{name}}}:meta");
            let site = format!("rajax:{{{}}}:site", site_tag(&channel));
            assert_eq!(Slot::for_key(&meta), Slot::for_key(&site), "{name}");
        }
    }

    #[test]
    fn every_slot_has_a_tag() {
        assert_eq!(tags().len(), SLOTS);
    }
}
