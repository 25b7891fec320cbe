//! What a stored event costs in memory: a fresh server of ours is sent events whose data is a
//! 16 KiB JSON array, and its resident memory is read before and after. The figure is the
//! growth per event as a multiple of the body's size (the target: at most 2).
//!
//! Nchan is not measured here: nginx writes a request body larger than its
//! `client_body_buffer_size` to a temporary file and Nchan keeps the message there, so the
//! process's memory would not show it.

use std::sync::Arc;

use reverse_ajax::load::conn::{Link, Meter, request};
use reverse_ajax::load::procfs::rss_kb;

use crate::args::Options;
use crate::servers::Server;

/// Events stored per run, spread over channels so that each history keeps all of its own
/// (ours keeps 4 MiB and 1,000 events per channel by default).
const EVENTS: usize = 1000;
const CHANNELS: usize = 10;
/// Events sent first and not counted, so the allocator's first growth is not counted either.
const WARM_UP: usize = 50;

/// The body every event carries: a JSON array of one-digit numbers, 16 KiB long (the worst
/// case for a parsed tree: every two bytes of text are one value).
fn body() -> String {
    let mut body = String::from("[");
    while body.len() + 2 + 2 <= 16 * 1024 {
        body.push_str("1,");
    }
    body.push_str("0]");
    body
}

/// The figure: bytes of memory per stored event, and that over the body's size.
pub struct Cost {
    pub per_event: f64,
    pub ratio: f64,
}

/// Measures our server once.
pub async fn measure(options: &Options) -> Result<Cost, String> {
    let server = Server::start_ours(&options.bin, &options.env).await?;
    let body = body();
    let mut link = Link::new(server.addr, &Arc::new(Meter::default()));
    let host = server.addr.to_string();
    for _ in 0..WARM_UP {
        publish(&mut link, &host, "warm", &body).await?;
    }
    let before = rss_kb(&server.pid())?;
    for n in 0..EVENTS {
        let channel = format!("history{}", n % CHANNELS);
        publish(&mut link, &host, &channel, &body).await?;
    }
    let after = rss_kb(&server.pid())?;
    server.stop().await?;
    let per_event = after.saturating_sub(before) as f64 * 1024.0 / EVENTS as f64;
    Ok(Cost {
        per_event,
        ratio: per_event / body.len() as f64,
    })
}

async fn publish(link: &mut Link, host: &str, channel: &str, body: &str) -> Result<(), String> {
    let target = format!("/api/channels/{channel}/events");
    let headers = [("Content-Type", "application/json")];
    let (head, answer) = link
        .send(&request("POST", &target, host, &headers, body))
        .await?;
    let answer = link.body(&head, answer).await?;
    match head.status {
        201 => Ok(()),
        status => Err(format!(
            "a 16 KiB publish was answered {status}: {}",
            String::from_utf8_lossy(&answer)
        )),
    }
}

/// The report's section for the figure.
pub fn section(cost: &Cost) -> String {
    let verdict = if cost.ratio <= 2.0 {
        "met"
    } else {
        "**not met**"
    };
    format!(
        "### history-16k: memory per stored event ({EVENTS} events of a 16 KiB JSON array)\n\n\
         | server | bytes per event | × the body's size |\n|---|---:|---:|\n\
         | ours | {:.0} | {:.2}× |\n\n\
         Target: a 16 KiB JSON array costs ≤ 2 × its size in memory: {verdict}.\n",
        cost.per_event, cost.ratio
    )
}
