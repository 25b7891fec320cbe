//! Publish throughput and publish→deliver latency of the memory hub and the Redis hub, with
//! one instance and with two (two `RedisHub`s on one prefix are two instances: one publishes,
//! the other delivers). Not a timed test: run `cargo bench --bench hub` and read the table.
//! Redis is `REDIS_URL` (default `redis://127.0.0.1:6379`); without it the Redis rows are
//! skipped with a notice.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reverse_ajax::config::{Backend, HubConfig};
use reverse_ajax::hub::memory::MemoryHub;
use reverse_ajax::hub::redis::RedisHub;
use reverse_ajax::hub::{Channel, Hub};
use serde_json::json;

const PUBLISHERS: usize = 8;
const EACH: usize = 500;
const LATENCY_SAMPLES: usize = 2000;

struct Row {
    name: &'static str,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

fn config(backend: Backend, prefix: &str) -> HubConfig {
    HubConfig {
        backend,
        url: redis_url(),
        prefix: prefix.to_owned(),
        history: 10_000,
        subscriber_queue: 10_000,
        ..HubConfig::default()
    }
}

fn redis_hub(prefix: &str) -> Arc<RedisHub> {
    let hub = Arc::new(RedisHub::new(config(Backend::Redis, prefix)).expect("a Redis hub"));
    hub.start();
    hub
}

/// `PUBLISHERS` tasks publish `EACH` events each, spread over `hubs`; events per second.
async fn throughput(hubs: &[Hub], channel: &Channel) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..PUBLISHERS)
        .map(|task| {
            let hub = Arc::clone(&hubs[task % hubs.len()]);
            let channel = channel.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    hub.publish(&channel, json!({ "task": task, "i": i }).into())
                        .await
                        .expect("publish");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a publisher");
    }
    (PUBLISHERS * EACH) as f64 / started.elapsed().as_secs_f64()
}

/// Publishes on `publisher` and waits for each event on a subscription of `subscriber`.
async fn latency(publisher: &Hub, subscriber: &Hub, channel: &Channel) -> (Duration, Duration) {
    let mut sub = subscriber
        .subscribe(channel, None)
        .await
        .expect("subscribe");
    // Let the subscriber's fan-out settle before measuring.
    for _ in 0..50 {
        publisher
            .publish(channel, json!("warm").into())
            .await
            .expect("publish");
        tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .expect("delivered")
            .expect("an event");
    }
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let started = Instant::now();
        publisher
            .publish(channel, json!(i).into())
            .await
            .expect("publish");
        tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .expect("delivered")
            .expect("an event");
        samples.push(started.elapsed());
    }
    samples.sort_unstable();
    (
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100],
    )
}

async fn measure(name: &'static str, publisher: Hub, subscriber: Hub, tag: &str) -> Row {
    let channel = Channel::parse(&format!("bench.{tag}.throughput")).expect("a channel");
    let per_second = throughput(&[publisher.clone(), subscriber.clone()], &channel).await;
    let channel = Channel::parse(&format!("bench.{tag}.latency")).expect("a channel");
    let (p50, p99) = latency(&publisher, &subscriber, &channel).await;
    Row {
        name,
        per_second,
        p50,
        p99,
    }
}

async fn redis_answers() -> bool {
    let ping = async {
        let client = redis::Client::open(redis_url().as_str())?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), ping).await,
        Ok(Ok(_))
    )
}

fn delete_keys(prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url().as_str()) else {
        return;
    };
    let Ok(mut connection) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut connection)
        .unwrap_or_default();
    if !keys.is_empty() {
        // Best effort: the keys expire by themselves anyway.
        let _deleted = redis::cmd("DEL").arg(keys).exec(&mut connection);
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let mut rows = Vec::new();
    let memory: Hub = Arc::new(MemoryHub::new(config(Backend::Memory, "unused")));
    rows.push(measure("memory, one instance", memory.clone(), memory, "memory").await);

    if redis_answers().await {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let prefix = format!("rajax-bench.{}.{millis}", std::process::id());
        let one: Hub = redis_hub(&prefix);
        rows.push(measure("redis, one instance", one.clone(), one, "one").await);
        let (a, b): (Hub, Hub) = (redis_hub(&prefix), redis_hub(&prefix));
        rows.push(
            measure(
                "redis, two instances (publish on A, deliver on B)",
                a,
                b,
                "two",
            )
            .await,
        );
        delete_keys(&prefix);
    } else {
        println!(
            "SKIPPED the Redis rows: Redis not reachable at {}",
            redis_url()
        );
    }

    println!(
        "\n{PUBLISHERS} publishers x {EACH} events for throughput; {LATENCY_SAMPLES} sequential \
         publish->deliver round trips for latency\n"
    );
    println!(
        "{:<52} {:>14} {:>12} {:>12}",
        "backend", "publishes/s", "p50", "p99"
    );
    for row in rows {
        println!(
            "{:<52} {:>14.0} {:>12.1?} {:>12.1?}",
            row.name, row.per_second, row.p50, row.p99
        );
    }
}
