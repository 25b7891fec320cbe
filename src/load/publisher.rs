//! The publisher: event i of the schedule (counting from 0) goes out at `start + schedule[i]`
//! with the body `{"seq": i + 1, "ts": <ns since 1970>}`, over keep-alive connections
//! ("lanes") that take the events in turn and each wait for their answer before sending
//! again. A [`Spread`] may send the events round several channels (each numbering its own
//! from 1) and the lanes round several servers. A refusal for the rate (429) is waited out,
//! a few times. Its bytes are not counted against any client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until, timeout};

use super::clients::Warnings;
use super::conn::{Link, Meter, request};
use super::peer::Peer;
use super::tally::wall_ns;

/// The longest one publish may take, connect included.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries of one event that the server refused for the rate.
const TRIES: usize = 5;

pub struct Publisher {
    pub addr: SocketAddr,
    /// The `Host` header.
    pub host: String,
    pub peer: Peer,
    /// When each event goes out, after `start`, in order.
    pub schedule: Vec<Duration>,
    pub start: Instant,
    /// Connections that take the events in turn.
    pub lanes: usize,
    /// Events stored so far, for whoever watches the run.
    pub stored: AtomicU64,
    pub warnings: Warnings,
    pub spread: Spread,
}

/// How the events spread over channels and servers; the default is the peer's one channel
/// on `addr`.
#[derive(Clone, Debug, Default)]
pub struct Spread {
    /// Channels the events go round: event i goes to channel `i % channels` of the peer
    /// ([`Peer::nth`]), as that channel's `seq` `i / channels + 1`. 0 and 1 both mean the
    /// peer's channel alone.
    pub channels: usize,
    /// Servers the lanes take in turn (lane k publishes to `servers[k % len]`, with the
    /// address as `Host`); empty for `addr` alone.
    pub servers: Vec<SocketAddr>,
}

impl Spread {
    /// How many channels the events go round (at least one).
    fn count(&self) -> usize {
        self.channels.max(1)
    }

    /// The channel (its index) and the sequence number of event `i` (from 0).
    fn place(&self, i: usize) -> (usize, usize) {
        let of = self.count();
        (i % of, i / of + 1)
    }
}

/// What publishing did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Published {
    /// Events the server stored.
    pub stored: u64,
    /// Events that failed (each one warned about).
    pub failed: u64,
    /// How late the last event went out against its schedule (each lane waits for each
    /// answer, so a server that answers slowly holds it back).
    pub late: Duration,
}

/// Publishes every event of the schedule.
pub async fn publish(publisher: Arc<Publisher>) -> Published {
    let lanes = publisher.lanes.max(1);
    let mut tasks = JoinSet::new();
    for lane in 0..lanes {
        tasks.spawn(self::lane(Arc::clone(&publisher), lane, lanes));
    }
    let mut published = Published::default();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(lane) => {
                published.failed += lane.failed;
                published.late = published.late.max(lane.late);
            }
            Err(e) => publisher
                .warnings
                .warn(&format!("a publisher lane failed: {e}")),
        }
    }
    published.stored = publisher.stored.load(Ordering::SeqCst);
    published
}

/// Sends events `lane`, `lane + lanes`, … of the schedule.
async fn lane(p: Arc<Publisher>, lane: usize, lanes: usize) -> Published {
    let (addr, host) = match p.spread.servers.get(lane % p.spread.servers.len().max(1)) {
        Some(addr) => (*addr, addr.to_string()),
        None => (p.addr, p.host.clone()),
    };
    let mut link = Link::new(addr, &Arc::new(Meter::default()));
    let bearer = p.peer.token().map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer));
    }
    // Each channel's address, worked out once rather than once an event.
    let of = p.spread.count();
    let targets: Vec<String> = (0..of).map(|c| p.peer.nth(c, of).publish()).collect();
    let mut done = Published::default();
    for (i, offset) in p.schedule.iter().enumerate().skip(lane).step_by(lanes) {
        let due = p.start + *offset;
        sleep_until(due).await;
        done.late = due.elapsed();
        let (channel, seq) = p.spread.place(i);
        let target = &targets[channel];
        for _try in 0..TRIES {
            let body = format!("{{\"seq\":{seq},\"ts\":{}}}", wall_ns());
            let bytes = request("POST", target, &host, &headers, &body);
            let answer = async {
                let (head, body) = link.send(&bytes).await?;
                let body = link.body(&head, body).await?;
                Ok::<_, String>((head, body))
            };
            let answer = timeout(PUBLISH_TIMEOUT, answer)
                .await
                .unwrap_or_else(|_| Err("no answer within 10 s".to_owned()));
            match answer {
                Ok((head, _)) if p.peer.stored(head.status) => {
                    p.stored.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                Ok((head, _)) if head.status == 429 => {
                    let after = head
                        .header("retry-after")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(1);
                    sleep(Duration::from_secs(after)).await;
                }
                Ok((head, body)) => {
                    done.failed += 1;
                    p.warnings.warn(&format!(
                        "publishing event {seq} was answered {}: {}",
                        head.status,
                        String::from_utf8_lossy(&body)
                    ));
                    break;
                }
                Err(e) => {
                    done.failed += 1;
                    link.drop_connection();
                    p.warnings
                        .warn(&format!("publishing event {seq} failed: {e}"));
                    break;
                }
            }
        }
    }
    done
}

/// An even schedule: `events` events at `rate` a second from the start.
pub fn steady(rate: u32, events: u64) -> Vec<Duration> {
    (0..events)
        .map(|i| Duration::from_nanos(i * 1_000_000_000 / u64::from(rate.max(1))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_schedule_spaces_events_evenly() {
        let at = steady(4, 6);
        assert_eq!(at.len(), 6);
        assert_eq!(at[1], Duration::from_millis(250));
        assert_eq!(at[5], Duration::from_millis(1250));
    }

    #[test]
    fn events_go_round_the_channels_each_numbering_its_own() {
        let one = Spread::default();
        assert_eq!((one.count(), one.place(4)), (1, (0, 5)));
        let three = Spread {
            channels: 3,
            servers: Vec::new(),
        };
        assert_eq!(three.count(), 3);
        assert_eq!(three.place(0), (0, 1));
        assert_eq!(three.place(4), (1, 2));
    }
}
