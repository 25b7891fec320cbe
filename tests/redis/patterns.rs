//! Visitors' event patterns shared by two instances on one Redis: a pattern chosen on one
//! instance runs while the other has the listener, runs once however many instances chose it,
//! moves to the other instance when its holder stops, and `max_running` counts the site.

use std::time::{Duration, Instant};

use rocket::figment::Figment;
use serde_json::{Value, json};

use crate::common::within;
use crate::harness::{Instance, Sse, cluster_scope, request_on, scope};
use crate::support::{cluster_urls, redis_url};

/// A steady ticker, a short idle time and a short lease.
const TICK_MS: u64 = 200;
const IDLE_MS: u64 = 1_000;

fn fast(figment: Figment) -> Figment {
    figment
        .merge(("ticker.min_ms", TICK_MS))
        .merge(("ticker.max_ms", TICK_MS))
        .merge(("patterns.idle_ms", IDLE_MS))
        .merge(("patterns.lease_ms", 900))
}

async fn instance(prefix: &str) -> Instance {
    Instance::start_tuned(prefix, &redis_url(), fast).await
}

/// An instance on the Redis Cluster, tuned like [`instance`].
async fn cluster_instance(prefix: &str) -> Instance {
    let seeds = cluster_urls();
    Instance::start_tuned(prefix, &redis_url(), |figment| {
        fast(figment).merge(("hub.cluster", seeds))
    })
    .await
}

/// `PUT /api/channels/<ch>/pattern` on `on`: the status and the JSON answer.
async fn choose(on: &Instance, ch: &str, pattern: &str) -> (u16, Value) {
    let body = json!({ "pattern": pattern }).to_string();
    let mut response = request_on(on.port, &format!("PUT /api/channels/{ch}/pattern"), &body).await;
    let code = response.code;
    (code, response.json().await)
}

/// The pattern `on` says runs on `ch`.
async fn current(on: &Instance, ch: &str) -> String {
    let mut response = on
        .request(&format!("GET /api/channels/{ch}/pattern"), "")
        .await;
    assert_eq!(response.code, 200);
    let body = response.json().await;
    body["pattern"].as_str().expect("a pattern").to_owned()
}

/// The number `n` of the next `Tick <n>` on the stream.
async fn next_tick(stream: &mut Sse) -> u64 {
    let event = stream.next().await;
    let envelope: Value = serde_json::from_str(&event.data).expect("JSON");
    envelope["data"]
        .as_str()
        .and_then(|text| text.strip_prefix("Tick "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a tick, got {envelope}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pattern_chosen_on_a_keeps_running_while_only_b_listens() {
    let Some(scope) = scope("patterns_listened_elsewhere").await else {
        return;
    };
    let (a, b) = (instance(&scope.prefix).await, instance(&scope.prefix).await);
    listened_elsewhere(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_cluster_a_pattern_chosen_on_a_keeps_running_while_only_b_listens() {
    let Some(scope) = cluster_scope("pat_cl_elsewhere", false).await else {
        return;
    };
    let a = cluster_instance(&scope.prefix).await;
    let b = cluster_instance(&scope.prefix).await;
    listened_elsewhere(a, b).await;
}

async fn listened_elsewhere(a: Instance, b: Instance) {
    // Arrange
    let ch = "demo-elsewhere1";
    let mut stream = b.sse(ch, None).await;

    // Act
    assert_eq!(choose(&a, ch, "ticker").await.0, 200);
    let chosen = Instant::now();
    let mut ticks = vec![next_tick(&mut stream).await];
    while chosen.elapsed() < Duration::from_millis(3 * IDLE_MS) {
        ticks.push(next_tick(&mut stream).await);
    }

    // Assert: still ticking three idle times later, once, and both instances say so.
    let expected: Vec<u64> = (ticks[0]..ticks[0] + ticks.len() as u64).collect();
    assert_eq!(ticks, expected, "one run, tick after tick");
    assert_eq!(current(&b, ch).await, "ticker", "B reports A's choice");
    assert_eq!(current(&a, ch).await, "ticker");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pattern_chosen_on_both_instances_ticks_once() {
    let Some(scope) = scope("patterns_chosen_twice").await else {
        return;
    };
    let (a, b) = (instance(&scope.prefix).await, instance(&scope.prefix).await);
    chosen_twice(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_cluster_a_pattern_chosen_on_both_instances_ticks_once() {
    let Some(scope) = cluster_scope("pat_cl_twice", false).await else {
        return;
    };
    let a = cluster_instance(&scope.prefix).await;
    let b = cluster_instance(&scope.prefix).await;
    chosen_twice(a, b).await;
}

async fn chosen_twice(a: Instance, b: Instance) {
    // Arrange
    let ch = "demo-twice1";
    let mut stream = a.sse(ch, None).await;

    // Act
    assert_eq!(choose(&a, ch, "ticker").await.0, 200);
    assert_eq!(choose(&b, ch, "ticker").await.0, 200);
    let first = next_tick(&mut stream).await;
    let started = Instant::now();
    let mut ticks = vec![first];
    for _ in 0..10 {
        ticks.push(next_tick(&mut stream).await);
    }
    let elapsed = started.elapsed();

    // Assert: one run's numbers in a row, at one run's pace (two would tick twice as often
    // and repeat every number).
    let expected: Vec<u64> = (first..=first + 10).collect();
    assert_eq!(ticks, expected, "one run, tick after tick");
    let per_second = 10.0 / elapsed.as_secs_f64();
    let once = 1000.0 / TICK_MS as f64;
    assert!(
        per_second < once * 1.5,
        "{per_second:.1} ticks/s where one run gives {once:.1}"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_other_instance_takes_the_pattern_over_when_its_holder_stops() {
    // Arrange: A chooses, so A holds the lease; B has the listener.
    let Some(scope) = scope("patterns_takeover").await else {
        return;
    };
    let (a, b) = (instance(&scope.prefix).await, instance(&scope.prefix).await);
    let ch = "demo-takeover1";
    let mut stream = b.sse(ch, None).await;
    assert_eq!(choose(&a, ch, "ticker").await.0, 200);
    for _ in 0..3 {
        next_tick(&mut stream).await;
    }

    // Act
    a.stop().await;

    // Assert: B starts a run of its own (from Tick 1) within a few seconds.
    within(Duration::from_secs(5), async {
        while next_tick(&mut stream).await != 1 {}
    })
    .await;
    assert_eq!(current(&b, ch).await, "ticker");
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_running_counts_the_patterns_of_every_instance() {
    // Arrange: one pattern for the whole site.
    let Some(scope) = scope("patterns_site_limit").await else {
        return;
    };
    let one = |figment: Figment| fast(figment).merge(("patterns.max_running", 1));
    let a = Instance::start_tuned(&scope.prefix, &redis_url(), one).await;
    let b = Instance::start_tuned(&scope.prefix, &redis_url(), one).await;

    // Act
    let first = choose(&a, "demo-limit1", "ticker").await;
    let second = choose(&b, "demo-limit2", "ticker").await;
    let again = choose(&b, "demo-limit1", "every-10s").await;

    // Assert
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(
        second.0, 429,
        "A's pattern holds the site's one seat: {}",
        second.1
    );
    assert_eq!(
        again.0, 200,
        "replacing the running pattern takes no new seat"
    );
    assert_eq!(current(&a, "demo-limit1").await, "every-10s");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lease_whose_holder_died_lapses_and_a_listening_instance_takes_over() {
    // Arrange: B listens; a holder that died left the choice and its lease behind, 1.5 s of it.
    let Some(scope) = scope("patterns_dead_holder").await else {
        return;
    };
    let b = instance(&scope.prefix).await;
    let ch = "demo-orphan1";
    let mut stream = b.sse(ch, None).await;
    let client = redis::Client::open(redis_url().as_str()).expect("a Redis URL");
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .expect("a Redis connection");
    let key = |what: &str| format!("{}:{{{ch}}}:{what}", scope.prefix);

    // Act
    let left = Instant::now();
    redis::pipe()
        .cmd("SET")
        .arg(key("pattern"))
        .arg("ticker")
        .arg("PX")
        .arg(10_000)
        .cmd("SET")
        .arg(key("lease"))
        .arg("a-dead-instance")
        .arg("PX")
        .arg(1_500)
        .exec_async(&mut redis)
        .await
        .expect("the orphan's keys");
    let first = within(Duration::from_secs(5), next_tick(&mut stream)).await;

    // Assert: B waited for the lease to lapse, then ran the pattern itself.
    assert_eq!(first, 1, "B's own run");
    assert!(
        left.elapsed() >= Duration::from_millis(1_500),
        "B ticked {:?} after the dead holder's lease was written",
        left.elapsed()
    );
    let holder: String = redis::cmd("GET")
        .arg(key("lease"))
        .query_async(&mut redis)
        .await
        .expect("GET the lease");
    assert_ne!(holder, "a-dead-instance");
    b.stop().await;
}
