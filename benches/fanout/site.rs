//! The Redis under the scale-out cases: which one (from `REDIS_URL` or `REDIS_CLUSTER_URLS`),
//! the `ROCKET_HUB` that points our instances at it, and the CPU time its processes used,
//! from `INFO cpu` on every node named.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::cases::Backend;

/// How long a key of a run stays in Redis after its last publish: past the run, not much
/// longer (the Redis may be shared).
const HISTORY_TTL_MS: u64 = 120_000;

/// The Redis one run's instances share.
pub struct Site {
    backend: Backend,
    /// The server, or every node of the cluster.
    urls: Vec<String>,
    /// A key prefix of this run's own, so runs never see each other's channels.
    prefix: String,
}

impl Site {
    /// The Redis of `backend` as the environment names it; `None` for the memory backend.
    /// The error says which variable is missing.
    pub fn of(backend: Backend) -> Result<Option<Site>, String> {
        let urls = match backend {
            Backend::Memory => return Ok(None),
            Backend::Redis => vec![variable("REDIS_URL")?],
            Backend::Cluster => variable("REDIS_CLUSTER_URLS")?
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("fanout-{}-{run}", std::process::id());
        Ok(Some(Site {
            backend,
            urls,
            prefix,
        }))
    }

    /// The `ROCKET_HUB` variable of every instance.
    pub fn hub_env(&self) -> (String, String) {
        let quoted: Vec<String> = self.urls.iter().map(|u| format!("{u:?}")).collect();
        let place = match self.backend {
            Backend::Cluster => format!("cluster=[{}]", quoted.join(",")),
            _ => format!("url={}", quoted.join(",")),
        };
        let value = format!(
            "{{backend=\"redis\",{place},prefix={:?},history_ttl_ms={HISTORY_TTL_MS}}}",
            self.prefix
        );
        ("ROCKET_HUB".to_owned(), value)
    }

    /// Removes the run's keys from every node: the site keys of the hash slots never expire.
    /// Returns how many went. A replica refuses to remove them (its primary does it).
    pub fn clean(&self) -> Result<usize, String> {
        let pattern = format!("{}:*", self.prefix);
        let mut removed = 0;
        for url in &self.urls {
            let failed = |e: redis::RedisError| format!("cleaning {url}: {e}");
            let mut conn = connect(url).map_err(failed)?;
            let keys: Vec<String> = redis::Commands::scan_match(&mut conn, &pattern)
                .map_err(failed)?
                .collect::<Result<_, _>>()
                .map_err(failed)?;
            // One key a command: on a cluster the keys of one node lie in many slots.
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.cmd("UNLINK").arg(key).ignore();
            }
            if !keys.is_empty() && pipe.query::<()>(&mut conn).is_ok() {
                removed += keys.len();
            }
        }
        Ok(removed)
    }

    /// Milliseconds of CPU (`used_cpu_sys` + `used_cpu_user`) every node has used so far.
    pub fn cpu_ms(&self) -> Result<f64, String> {
        let mut sum = 0.0;
        for url in &self.urls {
            sum += node_cpu_ms(url)?;
        }
        Ok(sum)
    }
}

/// The value of an environment variable that must be set.
fn variable(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(format!("{name} is not set")),
    }
}

/// The CPU time of one Redis process so far, in ms. A short blocking call: the run is not
/// measuring anything while it reads.
fn node_cpu_ms(url: &str) -> Result<f64, String> {
    let failed = |e: redis::RedisError| format!("INFO cpu on {url}: {e}");
    let mut conn = connect(url).map_err(failed)?;
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query(&mut conn)
        .map_err(failed)?;
    let seconds: f64 = info
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .filter(|(key, _)| matches!(*key, "used_cpu_sys" | "used_cpu_user"))
        .filter_map(|(_, value)| value.parse::<f64>().ok())
        .sum();
    Ok(seconds * 1000.0)
}

/// A plain connection to one node.
fn connect(url: &str) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(2))
}
