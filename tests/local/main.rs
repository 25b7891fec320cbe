//! The whole application through Rocket's local asynchronous client: every route, every
//! refusal, and the pages. One binary, one module per area.

#[path = "../common/mod.rs"]
mod common;
#[path = "../redis/support.rs"]
mod redis_support;

mod access;
mod addresses;
mod assets;
mod clock;
mod compare;
mod configuration;
mod doctor;
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
mod restart;
mod script_long_polling;
mod security;
mod server_sent_events;
mod shutdown;
mod stored_data;
mod streaming;
mod token_expiry;
mod visitor;
