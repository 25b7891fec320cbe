//! The application on a real socket (127.0.0.1, port 0), for what Rocket's local client cannot
//! do: WebSocket upgrades, clients that stop reading, signals. One binary, one module per area.

#[path = "../common/mod.rs"]
mod common;
#[path = "../redis/support.rs"]
mod redis_support;

mod installed;
mod kernel_memory;
mod launcher;
mod server;
mod slow_readers;
mod stored_data;
mod token_expiry;
mod websocket;
mod websocket_heartbeat;
mod websocket_limits;
mod websocket_protocol;
