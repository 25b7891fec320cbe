//! The whole application through Rocket's local asynchronous client: every route, every
//! refusal, and the pages. One binary, one module per area.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod addresses;
mod assets;
mod clock;
mod compare;
mod errors;
mod event_log;
mod forever_iframe;
mod inline_code;
mod jsonp_polling;
mod long_polling;
mod metrics;
mod multipart_streaming;
mod pages;
mod patterns;
mod piggyback;
mod polling;
mod postal;
mod publish;
mod script_long_polling;
mod security;
mod server_sent_events;
mod shutdown;
mod streaming;
mod visitor;
