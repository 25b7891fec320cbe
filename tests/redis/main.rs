//! Several application instances sharing one Redis: the Redis backend end to end.
//!
//! Each test launches real instances on 127.0.0.1 port 0 (in this process), talks plain
//! HTTP/1.0 to them over TCP (so bodies arrive unchunked, line by line), uses a key prefix of
//! its own and deletes its keys at the end. Without a Redis server each test prints a notice
//! and passes, unless `CI` is set (see `support.rs`).

mod burst;
mod cluster;
#[path = "../common/mod.rs"]
mod common;
mod expiry;
mod failover;
mod follower;
mod harness;
mod history_loss;
mod interest;
mod lost_answer;
mod outages;
mod outcomes;
mod patterns;
mod private;
mod support;
mod two_instances;
