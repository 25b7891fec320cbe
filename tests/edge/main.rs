//! The application behind Debian's nginx, configured with the snippets shipped in `deploy/`:
//! what Rocket 0.5 cannot do itself (cut slow heads and idle keep-alive connections, bound
//! unfinished heads), nginx does, and every transport still works through it. Without nginx
//! the tests print a notice and pass, unless `CI` is set. One binary, one module per area.

#[path = "../common/mod.rs"]
mod common;

#[path = "../live/launcher.rs"]
#[expect(
    dead_code,
    reason = "the edge tests use only part of the live launcher"
)]
mod launcher;

mod harness;
mod header_bytes;
mod header_flood;
mod nginx;
mod procfs;
mod slow_clients;
mod transports;
mod wire;
