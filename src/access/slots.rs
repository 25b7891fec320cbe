//! Held connections: streams, long polls and WebSockets each take a [`Slot`] for as long
//! as they are open, at most `[clients] held_per_ip` per client address and `held_max` in
//! all. The count changes only when a connection opens or closes, never per delivery. A slot
//! also carries the connection's [`Presence`] in its channel's audience, so both end together.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use super::audience::Presence;

#[derive(Debug)]
struct Counts {
    per_ip: HashMap<IpAddr, u32>,
    total: u32,
}

#[derive(Debug)]
struct Shared {
    counts: Mutex<Counts>,
    per_ip: u32,
    max: u32,
}

/// The held-connection counter.
#[derive(Debug, Clone)]
pub struct HeldSlots(Arc<Shared>);

/// Which limit a refused connection hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Client(u32),
    Server(u32),
}

/// One held connection; dropping it frees its place and ends its presence.
#[derive(Debug)]
pub struct Slot {
    shared: Arc<Shared>,
    ip: IpAddr,
    presence: Option<Presence>,
}

impl HeldSlots {
    pub fn new(per_ip: u32, max: u32) -> HeldSlots {
        HeldSlots(Arc::new(Shared {
            counts: Mutex::new(Counts {
                per_ip: HashMap::new(),
                total: 0,
            }),
            per_ip,
            max,
        }))
    }

    /// Takes a place for a connection from `ip`, or says which limit is reached.
    pub fn take(&self, ip: IpAddr) -> Result<Slot, Full> {
        let shared = &self.0;
        let mut counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= shared.max {
            return Err(Full::Server(shared.max));
        }
        let mine = counts.per_ip.entry(ip).or_insert(0);
        if *mine >= shared.per_ip {
            return Err(Full::Client(shared.per_ip));
        }
        *mine += 1;
        counts.total += 1;
        Ok(Slot {
            shared: Arc::clone(shared),
            ip,
            presence: None,
        })
    }

    /// How many connections are held now.
    pub fn held(&self) -> u32 {
        self.0
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Slot {
    /// Keeps `presence` for as long as this connection holds its place.
    pub fn attend(mut self, presence: Presence) -> Slot {
        self.presence = Some(presence);
        self
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .shared
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(mine) = counts.per_ip.get_mut(&self.ip) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_client_and_total_limits() {
        let slots = HeldSlots::new(2, 3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert_eq!(slots.take(a).unwrap_err(), Full::Client(2));
        let _third = slots.take(b).unwrap();
        assert_eq!(slots.take(b).unwrap_err(), Full::Server(3));
        drop(first);
        let _fourth = slots.take(b).unwrap();
        assert_eq!(slots.held(), 3);
    }
}
