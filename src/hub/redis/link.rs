//! The command connection of the Redis backend: one server (`hub.url`, through a connection
//! manager that reconnects) or a Redis Cluster (`hub.cluster` seeds, through the `redis`
//! crate's cluster client, which follows `MOVED`/`ASK`, refreshes the slot map and, on RESP3,
//! delivers sharded pub/sub messages as pushes).

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, PushInfo, RedisFuture, Value};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::config::HubConfig;

/// Where the commands go.
#[derive(Clone)]
pub(super) enum Commands {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// What [`open`] prepares: the command connection and how live messages arrive.
pub(super) enum Live {
    /// A pub/sub connection of its own, opened by the fan-out task from this client.
    Single(redis::Client),
    /// Pushes on the cluster connection itself (sharded pub/sub on RESP3).
    Cluster(UnboundedReceiver<PushInfo>),
}

/// Prepares the connections named by `config`; nothing is connected yet.
pub(super) fn open(config: &HubConfig, timeout: Duration) -> Result<(Commands, Live), String> {
    if config.cluster.is_empty() {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| format!("bad `hub.url` {:?}: {e}", config.url))?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let commands = client
            .get_connection_manager_lazy(manager)
            .map_err(|e| format!("cannot prepare Redis connections: {e}"))?;
        return Ok((Commands::Single(commands), Live::Single(client)));
    }
    let (commands, pushes) = cluster(config, timeout)?;
    Ok((commands, Live::Cluster(pushes)))
}

/// A new connection to the cluster named by `config` (it connects in the background) and the
/// pushes it will deliver. The fan-out task calls it again to replace a link that stopped
/// answering.
pub(super) fn cluster(
    config: &HubConfig,
    timeout: Duration,
) -> Result<(Commands, UnboundedReceiver<PushInfo>), String> {
    let client = ClusterClientBuilder::new(config.cluster.iter().map(String::as_str))
        .use_protocol(redis::ProtocolVersion::RESP3)
        .retries(2)
        .build()
        .map_err(|e| format!("bad `hub.cluster` {:?}: {e}", config.cluster))?;
    let (tx, rx) = unbounded_channel();
    let settings = ClusterConfig::default()
        .set_connection_timeout(Duration::from_secs(1))
        .set_response_timeout(timeout)
        .set_push_sender(tx);
    let commands = client.get_pending_async_connection_with_config(settings);
    Ok((Commands::Cluster(commands), rx))
}

impl ConnectionLike for Commands {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Commands::Single(c) => c.req_packed_command(cmd),
            Commands::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Commands::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Commands::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Commands::Single(c) => c.get_db(),
            Commands::Cluster(c) => c.get_db(),
        }
    }
}
