//! The application on a real socket (127.0.0.1, port 0), for what Rocket's local client cannot
//! do: WebSocket upgrades, clients that stop reading, signals. One binary, one module per area.

#[path = "../common/mod.rs"]
mod common;

mod installed;
mod launcher;
mod server;
mod slow_readers;
mod websocket;
mod websocket_limits;
mod websocket_protocol;
