//! What every test against a real Redis shares: where Redis is (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`), the skip rule (a notice when Redis does not answer, a failure
//! when `CI` is set), a key prefix of its own for each test, and cleaning that prefix up.

#![allow(
    dead_code,
    reason = "the hub suite and the redis binary each use a different part of it"
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The Redis server the tests use.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

/// Asks the server at `url` for a PING on a fresh connection, waiting at most `limit`.
pub async fn ping(url: &str, limit: Duration) -> Result<(), String> {
    let ping = async {
        let client = redis::Client::open(url)?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    match tokio::time::timeout(limit, ping).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer in {limit:?}")),
    }
}

/// True when Redis answers a PING. Otherwise prints a notice naming `test` and returns false,
/// unless `CI` is set: then the test fails, so CI never passes by skipping.
pub async fn redis_ready(test: &str) -> bool {
    let url = redis_url();
    let Err(why) = ping(&url, Duration::from_secs(2)).await else {
        return true;
    };
    if std::env::var("CI").is_ok_and(|ci| !ci.is_empty()) {
        panic!("{test}: Redis not reachable at {url} ({why}) and CI is set");
    }
    eprintln!("SKIPPED {test}: Redis not reachable at {url} ({why})");
    false
}

/// The seed URLs of the local Redis Cluster (`REDIS_CLUSTER_URLS`, comma-separated, as
/// `scripts/redis-cluster start` prints them), if any.
pub fn cluster_urls() -> Vec<String> {
    std::env::var("REDIS_CLUSTER_URLS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect()
}

/// True when the Redis Cluster answers a PING on its first seed. Otherwise prints a notice
/// naming `test` and returns false, unless `CI` is set: then the test fails.
pub async fn cluster_ready(test: &str) -> bool {
    let urls = cluster_urls();
    let why = match urls.first() {
        None => {
            "REDIS_CLUSTER_URLS is not set (start one with scripts/redis-cluster start)".to_owned()
        }
        Some(url) => match ping(url, Duration::from_secs(2)).await {
            Ok(()) => return true,
            Err(why) => format!("{url}: {why}"),
        },
    };
    if std::env::var("CI").is_ok_and(|ci| !ci.is_empty()) {
        panic!("{test}: no Redis Cluster ({why}) and CI is set");
    }
    eprintln!("SKIPPED {test}: no Redis Cluster ({why})");
    false
}

/// Deletes every key under `prefix` on every primary of the cluster (replicas refuse; they
/// follow their primary).
pub fn delete_cluster_keys(prefix: &str) {
    for url in cluster_urls() {
        let cleanup = || -> redis::RedisResult<()> {
            let client = redis::Client::open(url.as_str())?;
            let mut connection = client.get_connection_with_timeout(Duration::from_secs(2))?;
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}:*"))
                .query(&mut connection)?;
            for key in keys {
                redis::cmd("DEL").arg(key).exec(&mut connection)?;
            }
            Ok(())
        };
        // Replicas answer READONLY; their primary deletes the keys.
        let _deleted = cleanup();
    }
}

/// A key prefix no other test (in this run or another) uses.
pub fn unique_prefix(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    format!(
        "rajax-test.{tag}.{}.{millis}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Deletes every key under `prefix` (blocking; fine at the end of a test or in `Drop`).
pub fn delete_keys(prefix: &str) {
    let cleanup = || -> redis::RedisResult<()> {
        let client = redis::Client::open(redis_url().as_str())?;
        let mut connection = client.get_connection_with_timeout(Duration::from_secs(2))?;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query(&mut connection)?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(keys).exec(&mut connection)?;
        }
        Ok(())
    };
    if let Err(e) = cleanup() {
        eprintln!("could not delete the test keys under {prefix}: {e}");
    }
}

/// How many keys match `pattern` (a KEYS pattern).
pub fn count_keys(pattern: &str) -> usize {
    let client = redis::Client::open(redis_url().as_str()).expect("a Redis URL");
    let mut connection = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .expect("a Redis connection");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query(&mut connection)
        .expect("KEYS");
    keys.len()
}
