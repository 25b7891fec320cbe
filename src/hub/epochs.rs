//! Which epoch a channel's next history gets, known before the channel exists.
//!
//! Reads create nothing, yet a reader of a channel nobody has published to yet must get a
//! cursor that stays good when the first event comes. So the epoch of a channel's next
//! history is a token of the process (the genesis) followed by a generation counter kept per
//! bucket of channel names: an empty channel's head is `<epoch>-0` with that epoch,
//! and its first history takes exactly that epoch and moves the bucket's generation on. A
//! later history of the same channel (after the first one expired) therefore gets an epoch
//! no earlier history had, so an id never names two events. When another channel of the same
//! bucket starts a history in between, the waiting cursor is reset instead: honest, and rare.
//! The table is bounded (16 KiB), whatever the number of channels.

use std::sync::Arc;

use super::Channel;

/// How many generation counters there are; channel names are hashed onto them.
pub(super) const BUCKETS: u32 = 1 << 12;

/// The generation counters of one process's histories.
pub(super) struct Epochs {
    genesis: String,
    generations: Box<[u32]>,
}

impl Epochs {
    /// `genesis` is a fresh random token (alphanumeric), new for every process.
    pub(super) fn new(genesis: String) -> Epochs {
        Epochs {
            genesis,
            generations: vec![0; BUCKETS as usize].into_boxed_slice(),
        }
    }

    /// The epoch `channel`'s next history will get.
    pub(super) fn peek(&self, channel: &Channel) -> Arc<str> {
        let generation = self.generations[bucket(channel) as usize];
        Arc::from(format!("{}{generation}", self.genesis))
    }

    /// The epoch of a history of `channel` that starts now; the next one gets another.
    pub(super) fn start(&mut self, channel: &Channel) -> Arc<str> {
        let epoch = self.peek(channel);
        let generation = &mut self.generations[bucket(channel) as usize];
        *generation = generation.wrapping_add(1);
        epoch
    }
}

/// The bucket of a channel name. A CRC, not Rust's hasher, so that every instance of a site
/// (whatever it was built with) agrees; the Redis backend keeps its counters by this number.
pub(super) fn bucket(channel: &Channel) -> u32 {
    crc32fast::hash(channel.as_str().as_bytes()) % BUCKETS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_channel_shows_the_epoch_its_first_history_takes() {
        let mut epochs = Epochs::new("gen3s1s0".into());
        let channel = Channel::parse("news").unwrap();
        let shown = epochs.peek(&channel);
        assert_eq!(epochs.start(&channel), shown);
        let next = epochs.peek(&channel);
        assert_ne!(next, shown, "a later history never reuses an epoch");
        assert_eq!(epochs.start(&channel), next);
    }

    #[test]
    fn epochs_are_valid_in_ids() {
        let epochs = Epochs::new("abcdefgh".into());
        let epoch = epochs.peek(&Channel::parse("x").unwrap());
        let id: crate::hub::EventId = format!("{epoch}-0").parse().unwrap();
        assert_eq!(&*id.epoch, &*epoch);
    }
}
