//! Faults on a Redis Cluster under live clients (`REDIS_CLUSTER_URLS`, see
//! `scripts/redis-cluster`): two instances on the cluster, an SSE follower and a long-poll
//! follower on one, the publisher on the other. Whatever happens, no id names two events and
//! every acknowledged event reaches the clients or a reset tells them it will not.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::burst::{Answers, assert_promises, history};
use crate::common::within;
use crate::follower::{Seen, follow_long_poll, follow_sse};
use crate::harness::{Instance, WAIT, cluster_scope};
use crate::history_loss::ROOM;
use crate::support::cluster_urls;

/// A plain connection to the node at `url`, waiting a moment for one that a previous test
/// revived and is still starting.
pub fn node(url: &str) -> redis::Connection {
    let client = redis::Client::open(url).expect("a node URL");
    let mut tries = 0;
    loop {
        match client.get_connection_with_timeout(Duration::from_secs(2)) {
            Ok(connection) => return connection,
            Err(_) if tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("a connection to the cluster node {url}: {e}"),
        }
    }
}

/// A connection to the first seed that answers (a test may have killed another).
fn seed() -> redis::Connection {
    cluster_urls()
        .iter()
        .find_map(|url| {
            redis::Client::open(url.as_str())
                .ok()?
                .get_connection_with_timeout(Duration::from_secs(2))
                .ok()
        })
        .expect("a cluster node that answers")
}

/// One line of `CLUSTER NODES`: the node's id, URL, whether it is a primary, the primary it
/// follows and its slot ranges.
struct Node {
    id: String,
    url: String,
    primary: bool,
    /// Up and connected to the others.
    up: bool,
    follows: String,
    slots: Vec<(u16, u16)>,
}

fn nodes() -> Vec<Node> {
    let text: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query(&mut seed())
        .expect("CLUSTER NODES");
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let address = fields.get(1)?.split('@').next()?;
            let flags = fields.get(2)?;
            Some(Node {
                id: fields[0].to_owned(),
                url: format!("redis://{address}"),
                primary: flags.contains("master") && !flags.contains("fail"),
                up: !flags.contains("fail") && fields.get(7) == Some(&"connected"),
                follows: fields.get(3)?.to_string(),
                slots: fields[8.min(fields.len())..]
                    .iter()
                    .filter_map(|range| {
                        let (from, to) = range.split_once('-').unwrap_or((range, range));
                        Some((from.parse().ok()?, to.parse().ok()?))
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The URLs of the primary that serves `key` and of one of its replicas that is up, waiting
/// for one (a node a test revived rejoins as a replica after a moment).
pub async fn owner_and_replica(key: &str) -> (String, String) {
    within(WAIT, async {
        loop {
            if let Some(found) = try_owner_and_replica(key) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

fn try_owner_and_replica(key: &str) -> Option<(String, String)> {
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut seed())
        .expect("CLUSTER KEYSLOT");
    let all = nodes();
    let owner = all
        .iter()
        .find(|n| n.primary && n.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot)))?;
    let replica = all.iter().find(|n| n.follows == owner.id && n.up)?;
    Some((owner.url.clone(), replica.url.clone()))
}

/// Waits until the node at `url` is a primary.
pub async fn primary_again(url: &str) {
    within(WAIT, async {
        loop {
            let info: String = redis::cmd("INFO")
                .arg("replication")
                .query(&mut node(url))
                .expect("INFO");
            if info.contains("role:master") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

/// What a fault left: the publisher's answers, how many of them were acknowledged before the
/// fault was over, what each follower received and what the history holds afterwards.
struct Outcome {
    answers: Answers,
    during: usize,
    followers: Vec<Seen>,
    history: Vec<serde_json::Value>,
    /// Links the followers' instances found silent or lost and opened anew.
    relinks: [f64; 2],
}

impl Outcome {
    /// Prints the figures and checks the promises (see `burst.rs`) against the events
    /// acknowledged once the fault was over.
    fn assert_honest(&self, fault: &str) {
        let resets: Vec<usize> = self.followers.iter().map(resets).collect();
        eprintln!(
            "cluster {fault}: {} acknowledged ({} while the fault ran), {} answered 503, \
             {} answered 504; resets per follower {resets:?}; relinks {:?}",
            self.answers.acknowledged.len(),
            self.during,
            self.answers.refused.len(),
            self.answers.unknown,
            self.relinks,
        );
        let after_fault = &self.answers.acknowledged[100 + self.during..];
        assert_promises(&self.answers, after_fault, &self.followers, &self.history);
    }
}

/// Three instances on the cluster: an SSE follower and a long-poll follower on each of two,
/// and a publisher on the third. 100 events; then a burst of publishes while `fault` runs
/// (at least 50); then 100 more.
async fn under_fault(prefix: &str, fault: impl AsyncFnOnce()) -> Outcome {
    let a = Instance::start_on_cluster(prefix).await;
    let b = Instance::start_on_cluster(prefix).await;
    let publisher = Arc::new(Instance::start_on_cluster(prefix).await);
    let start = a.head(ROOM).await;
    let (target, stop_at) = watch::channel(None);
    let followers = [&a, &b].map(|on| {
        [
            follow_sse(on.port, ROOM, start.clone(), stop_at.clone()),
            follow_long_poll(on.port, ROOM, start.clone(), stop_at.clone()),
        ]
    });

    let mut answers = Answers::default();
    answers.publish_all(&publisher, 0, 100).await;
    let next = answers.publish_during(&publisher, (100, 50), fault()).await;
    let during = answers.acknowledged.len() - 100;
    answers.publish_all(&publisher, next, 100).await;
    target.send_replace(answers.acknowledged.last().cloned());
    // One more event, so that a follower already past the target (after a reset) hears of it.
    answers.publish_all(&publisher, next + 100, 1).await;
    answers.acknowledged.pop();

    let mut seen = Vec::new();
    for follower in followers.into_iter().flatten() {
        seen.push(within(WAIT, follower).await.expect("a follower"));
    }
    let history = history(&a, &start).await;
    let relink = "reverse_ajax_backend_relinks_total";
    let relinks = [a.metric(relink).await, b.metric(relink).await];
    a.stop().await;
    b.stop().await;
    if let Ok(publisher) = Arc::try_unwrap(publisher) {
        publisher.stop().await;
    }
    Outcome {
        answers,
        during,
        followers: seen,
        history,
        relinks,
    }
}

/// How many resets a follower was given.
fn resets(seen: &Seen) -> usize {
    seen.log
        .iter()
        .filter(|item| matches!(item, crate::follower::Item::Reset(_)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_pubsub_links_on_every_node_lose_nothing() {
    // Arrange
    let Some(scope) = cluster_scope("cluster_kill_pubsub", true).await else {
        return;
    };

    // Act: every node drops every connection that subscribes to something.
    let outcome = under_fault(&scope.prefix, async || {
        for node in nodes().iter().filter(|n| n.up) {
            redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("pubsub")
                .exec(&mut self::node(&node.url))
                .expect("CLIENT KILL");
        }
    })
    .await;

    // Assert
    outcome.assert_honest("CLIENT KILL TYPE pubsub");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_manual_failover_of_the_busy_primary_loses_nothing_in_silence() {
    // Arrange
    let Some(scope) = cluster_scope("cluster_failover", true).await else {
        return;
    };
    let (_, replica) = owner_and_replica(&format!("{}:{{{ROOM}}}:meta", scope.prefix)).await;

    // Act: the replica of the channel's primary takes over (CLUSTER FAILOVER, coordinated).
    let outcome = under_fault(&scope.prefix, async || {
        redis::cmd("CLUSTER")
            .arg("FAILOVER")
            .exec(&mut node(&replica))
            .expect("CLUSTER FAILOVER");
        primary_again(&replica).await;
    })
    .await;

    // Assert
    outcome.assert_honest("CLUSTER FAILOVER");
}

/// The process id of the node at `url`.
pub fn pid_of(url: &str) -> u32 {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut node(url))
        .expect("INFO server");
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .expect("a process_id")
}

/// The port of a node URL.
pub fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

/// Where `scripts/redis-cluster` keeps the node on `port` when it started the cluster whose
/// first port is that of the first seed.
pub fn started_by_script(port: u16) -> bool {
    let first = cluster_urls().first().map_or(0, |url| port_of(url));
    let dir = std::env::var("REDIS_CLUSTER_DIR")
        .unwrap_or_else(|_| format!("/tmp/rajax-redis-cluster-{first}"));
    std::path::Path::new(&dir)
        .join(port.to_string())
        .join("redis.pid")
        .exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_primary_fails_over_and_nothing_is_lost_in_silence() {
    // Arrange: only on a cluster this project's script started (the test kills one of its
    // processes, then starts it again).
    let Some(scope) = cluster_scope("cluster_primary_killed", true).await else {
        return;
    };
    let (primary, replica) = owner_and_replica(&format!("{}:{{{ROOM}}}:meta", scope.prefix)).await;
    if !started_by_script(port_of(&primary)) {
        eprintln!(
            "SKIPPED a_killed_primary_fails_over: the cluster was not started by scripts/redis-cluster"
        );
        return;
    }

    // Act: the channel's primary dies (SIGKILL); its replica takes over after the node
    // timeout; the old primary comes back as a replica (also if the test fails).
    let revive = Revive(port_of(&primary));
    let outcome = under_fault(&scope.prefix, async || {
        let pid = pid_of(&primary);
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        primary_again(&replica).await;
    })
    .await;
    let revived = revive.now();

    // Assert
    assert!(revived, "the killed node starts again");
    outcome.assert_honest("primary killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_paused_past_the_node_timeout_loses_nothing_in_silence() {
    // Arrange: as for the killed primary, only on a cluster this project's script started.
    let Some(scope) = cluster_scope("cluster_primary_paused", true).await else {
        return;
    };
    let (primary, replica) = owner_and_replica(&format!("{}:{{{ROOM}}}:meta", scope.prefix)).await;
    if !started_by_script(port_of(&primary)) {
        eprintln!("SKIPPED a_primary_paused: the cluster was not started by scripts/redis-cluster");
        return;
    }

    // Act: the channel's primary stops (SIGSTOP) until its replica has taken over, then goes
    // on (SIGCONT) and finds itself a replica.
    let paused = Paused(pid_of(&primary));
    let outcome = under_fault(&scope.prefix, async || {
        signal("-STOP", paused.0);
        primary_again(&replica).await;
        signal("-CONT", paused.0);
    })
    .await;
    drop(paused);

    // Assert
    outcome.assert_honest("primary paused past the node timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_primary_that_stays_paused_is_left_for_its_replica_within_seconds() {
    // Arrange: as for the paused primary.
    let Some(scope) = cluster_scope("cluster_primary_gone_quiet", true).await else {
        return;
    };
    let (primary, replica) = owner_and_replica(&format!("{}:{{{ROOM}}}:meta", scope.prefix)).await;
    if !started_by_script(port_of(&primary)) {
        eprintln!(
            "SKIPPED a_primary_that_stays_paused: the cluster was not started by scripts/redis-cluster"
        );
        return;
    }

    // Act: the channel's primary stops (SIGSTOP) and stays stopped until the end, while its
    // replica takes over. Its connections stay open and say nothing: the subscriptions held
    // there are detached, and only the probe of each link can tell.
    let paused = Paused(pid_of(&primary));
    let outcome = under_fault(&scope.prefix, async || {
        signal("-STOP", paused.0);
        primary_again(&replica).await;
    })
    .await;
    drop(paused);

    // Assert: every event after the failover reached the followers on both instances (which
    // takes a new link on each), and the promises hold.
    outcome.assert_honest("primary paused for good");
    assert!(
        outcome.relinks.iter().all(|n| *n >= 1.0),
        "each instance replaced its link: {:?}",
        outcome.relinks
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_migration_of_the_busy_slot_loses_nothing_in_silence() {
    // Arrange
    let Some(scope) = cluster_scope("cluster_migration", true).await else {
        return;
    };
    let key = format!("{}:{{{ROOM}}}:meta", scope.prefix);
    let (source, _) = owner_and_replica(&key).await;

    // Act: the channel's slot moves to another primary, keys and all (as
    // `redis-cli --cluster reshard` does it).
    let outcome = under_fault(&scope.prefix, async || {
        migrate_slot_of(&key, &source);
    })
    .await;

    // Assert
    outcome.assert_honest("slot migration");
}

/// Moves the slot of `key` from the primary at `source` to another primary.
fn migrate_slot_of(key: &str, source: &str) {
    let all = nodes();
    let from = all.iter().find(|n| n.url == source).expect("the source");
    let to = all
        .iter()
        .find(|n| n.primary && n.up && n.url != source)
        .expect("another primary");
    let (mut src, mut dst) = (node(&from.url), node(&to.url));
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut src)
        .expect("CLUSTER KEYSLOT");
    let setslot = |connection: &mut redis::Connection, how: &str, id: &str| {
        redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(slot)
            .arg(how)
            .arg(id)
            .exec(connection)
            .expect("CLUSTER SETSLOT");
    };
    setslot(&mut dst, "IMPORTING", &from.id);
    setslot(&mut src, "MIGRATING", &to.id);
    let (host, port) = to
        .url
        .trim_start_matches("redis://")
        .split_once(':')
        .expect("host:port");
    loop {
        let keys: Vec<String> = redis::cmd("CLUSTER")
            .arg("GETKEYSINSLOT")
            .arg(slot)
            .arg(100)
            .query(&mut src)
            .expect("CLUSTER GETKEYSINSLOT");
        if keys.is_empty() {
            break;
        }
        redis::cmd("MIGRATE")
            .arg(host)
            .arg(port)
            .arg("")
            .arg(0)
            .arg(5000)
            .arg("KEYS")
            .arg(keys)
            .exec(&mut src)
            .expect("MIGRATE");
    }
    setslot(&mut dst, "NODE", &to.id);
    setslot(&mut src, "NODE", &to.id);
}

pub fn signal(which: &str, pid: u32) {
    let sent = std::process::Command::new("kill")
        .args([which, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success(), "kill {which} {pid}");
}

/// A paused node, sent SIGCONT when dropped (also if the test fails).
pub struct Paused(pub u32);

impl Drop for Paused {
    fn drop(&mut self) {
        let _sent = std::process::Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

/// Starts the node on its port again with `scripts/redis-cluster revive`, at the latest when
/// dropped.
struct Revive(u16);

impl Revive {
    /// Starts it now; true when it answers.
    fn now(self) -> bool {
        let port = self.0;
        std::mem::forget(self);
        revive(port)
    }
}

impl Drop for Revive {
    fn drop(&mut self) {
        revive(self.0);
    }
}

/// Runs `scripts/redis-cluster revive` for the cluster whose first port is that of the first
/// seed (the one `started_by_script` looked at).
fn revive(port: u16) -> bool {
    let first = cluster_urls().first().map_or(0, |url| port_of(url));
    std::process::Command::new("scripts/redis-cluster")
        .args(["revive", &port.to_string()])
        .env("REDIS_CLUSTER_PORT", first.to_string())
        .status()
        .is_ok_and(|status| status.success())
}
