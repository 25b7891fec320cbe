//! The Redis backend under the same suite: each hub gets a key prefix of its own, deleted when
//! the hub is dropped. Without a Redis server the tests print a notice and pass, unless `CI`
//! is set (see `tests/redis/support.rs`).

use std::sync::Arc;

use reverse_ajax::config::{Backend, HubConfig, Section};
use reverse_ajax::hub::redis::RedisHub;
use reverse_ajax::hub::{
    BackendStats, Batch, Channel, EventHub, EventId, Footprint, Hub, HubError, IdempotencyKey,
    Payload, Published, Subscription,
};

use crate::redis_support::{
    cluster_ready, cluster_urls, delete_cluster_keys, delete_keys, redis_ready, redis_url,
    unique_prefix,
};

/// True when the Redis suite can run (see `redis_ready`).
pub async fn ready() -> bool {
    redis_ready("the hub suite on Redis").await
}

/// True when the suite can run on the Redis Cluster (see `cluster_ready`).
pub async fn cluster() -> bool {
    cluster_ready("the hub suite on Redis Cluster").await
}

/// A Redis hub on a fresh prefix, with its fan-out task running.
pub async fn redis_hub(config: HubConfig) -> Hub {
    hub_on(config, Vec::new())
}

/// A hub on the Redis Cluster, on a fresh prefix, with its fan-out task running.
pub async fn cluster_hub(config: HubConfig) -> Hub {
    hub_on(config, cluster_urls())
}

fn hub_on(config: HubConfig, cluster: Vec<String>) -> Hub {
    let prefix = unique_prefix("hub");
    let on_cluster = !cluster.is_empty();
    let config = HubConfig {
        backend: Backend::Redis,
        url: redis_url(),
        cluster,
        prefix: prefix.clone(),
        ..config
    };
    let hub =
        RedisHub::new(config.check().expect("a valid test configuration")).expect("a Redis hub");
    hub.start();
    Arc::new(Cleaned {
        hub,
        prefix,
        on_cluster,
    })
}

/// A Redis hub that deletes its keys when dropped.
struct Cleaned {
    hub: RedisHub,
    prefix: String,
    on_cluster: bool,
}

impl Drop for Cleaned {
    fn drop(&mut self) {
        self.hub.stop();
        if self.on_cluster {
            delete_cluster_keys(&self.prefix);
        } else {
            delete_keys(&self.prefix);
        }
    }
}

#[rocket::async_trait]
impl EventHub for Cleaned {
    async fn publish_once(
        &self,
        channel: &Channel,
        data: Payload,
        key: Option<&IdempotencyKey>,
    ) -> Result<Published, HubError> {
        self.hub.publish_once(channel, data, key).await
    }

    async fn read(&self, channel: &Channel, since: Option<&EventId>) -> Result<Batch, HubError> {
        self.hub.read(channel, since).await
    }

    async fn recent(&self, channel: &Channel, limit: usize) -> Result<Batch, HubError> {
        self.hub.recent(channel, limit).await
    }

    async fn subscribe(
        &self,
        channel: &Channel,
        since: Option<&EventId>,
    ) -> Result<Subscription, HubError> {
        self.hub.subscribe(channel, since).await
    }

    fn close(&self) {
        self.hub.close();
    }

    fn footprint(&self) -> Footprint {
        self.hub.footprint()
    }

    fn backend_stats(&self) -> Option<BackendStats> {
        self.hub.backend_stats()
    }
}
