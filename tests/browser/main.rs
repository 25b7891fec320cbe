//! Browser tests: the real app on 127.0.0.1, driven through Debian's Chromium by fantoccini.
//!
//! Each test launches its own app (ticker off) and its own chromedriver, so tests never see
//! each other's events. Without Chromium the tests skip with a notice; with `CI` set they fail.
//! Run with `cargo test --test browser -- --test-threads=2`: Chromium is heavy.

mod client_figures;
mod client_library;
#[path = "../common/mod.rs"]
mod common;
mod compare;
mod console;
mod harness;

mod demo_widgets;
mod doctor;
mod event_log;
mod forever_iframe;
mod jsonp_polling;
mod layout;
mod lessons;
mod long_polling;
mod multipart_streaming;
mod piggyback;
mod polling;
mod postal_code;
mod proxies;
mod script_long_polling;
mod server_sent_events;
mod smoke;
mod websocket;

// Debian's nginx in front of the app, as the edge suite runs it (for the client library's tests).
#[path = "../edge/nginx.rs"]
#[allow(
    dead_code,
    reason = "the browser tests use only part of the edge suite's nginx"
)]
mod nginx;
#[path = "../edge/procfs.rs"]
#[allow(
    dead_code,
    reason = "nginx.rs needs it; the browser tests read nothing else from /proc"
)]
mod procfs;
