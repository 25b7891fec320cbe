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
