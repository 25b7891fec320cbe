//! `reverse-ajax experiment`: the article's claims, measured. For each technique, N simulated
//! browsers speak it exactly as its page does against a server (a child process of this
//! binary on loopback, or `--url`) while a publisher follows an event pattern; the result is
//! what each technique cost on the wire and on the server, and whether every event arrived
//! exactly once. [`run`] is the library entry point; [`command`] is the thin CLI over it and
//! [`web`] the HTTP API (`POST /api/experiments`) over it. The clients, their tallies and the
//! publisher are the load engine's ([`crate::load`]).

pub mod command;
pub mod pattern;
pub mod report;
pub mod web;

mod run;
mod server;
pub use server::OPEN_ACCESS;

use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Serialize;

pub use crate::load::raise_file_limit;
pub use crate::load::stats::Latency;
pub use crate::wire::Technique;
pub use pattern::Pattern;

/// The most clients per technique the experiment will simulate.
pub const MAX_CLIENTS: usize = 2000;
/// The longest publishing window per technique, in seconds.
pub const MAX_SECONDS: u64 = 600;

/// Where the server under test is.
#[derive(Clone, Debug)]
pub enum Server {
    /// Start this binary (`serve`) as a child on a free 127.0.0.1 port.
    Spawn(PathBuf),
    /// Use the server at this `http://` URL, publishing with the token if given.
    Url { url: String, token: Option<String> },
}

#[derive(Clone, Debug)]
pub struct Options {
    pub clients: usize,
    /// Length of each technique's publishing window.
    pub seconds: u64,
    /// Between two polls or form posts; also the window over which clients start.
    pub interval: Duration,
    pub pattern: Pattern,
    pub techniques: Vec<Technique>,
    pub server: Server,
}

impl Options {
    /// Refuses runs beyond the experiment's bounds.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_CLIENTS).contains(&self.clients) {
            return Err(format!("--clients must be 1 to {MAX_CLIENTS}"));
        }
        if !(1..=MAX_SECONDS).contains(&self.seconds) {
            return Err(format!("--seconds must be 1 to {MAX_SECONDS}"));
        }
        if self.interval < Duration::from_millis(50) || self.interval > Duration::from_secs(60) {
            return Err("--interval must be 0.05 to 60 seconds".to_owned());
        }
        if self.techniques.is_empty() {
            return Err("give at least one technique".to_owned());
        }
        Ok(())
    }

    /// How long the whole experiment takes.
    pub fn length(&self) -> Duration {
        run::length(self) * self.techniques.len() as u32
    }
}

/// What happened while one technique ran, in the JSON shape of `--format json`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TechniqueResult {
    pub technique: &'static str,
    pub requests: u64,
    pub empty_answers: u64,
    pub bytes_down: u64,
    pub bytes_up: u64,
    pub events: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub connections: u64,
    pub latency_ms: Latency,
    pub server_cpu_ms: Option<u64>,
}

/// What [`run`] reports while it works.
#[derive(Clone, Debug)]
pub enum Progress {
    /// A technique's run begins; it lasts `length`.
    Started {
        technique: Technique,
        index: usize,
        of: usize,
        length: Duration,
    },
    /// A few times a second.
    Tick {
        technique: Technique,
        elapsed: Duration,
        published: u64,
    },
    /// A client or the publisher ran into trouble (the first few of a run).
    Warning {
        technique: Technique,
        message: String,
    },
    Finished(TechniqueResult),
}

/// Runs every technique of `options` in turn and returns one result each.
pub async fn run(
    options: Options,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<TechniqueResult>, String> {
    options.check()?;
    let target = match &options.server {
        Server::Spawn(binary) => server::Target::spawn(binary).await?,
        Server::Url { url, token } => server::Target::remote(url, token.clone()).await?,
    };
    let tag: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(8)
        .map(char::from)
        .collect();
    // One schedule for every technique, so that their rows describe the same events.
    let schedule = options.pattern.schedule(
        Duration::from_secs(options.seconds),
        &mut rand::thread_rng(),
    );
    let mut results = Vec::new();
    for (index, &technique) in options.techniques.iter().enumerate() {
        let (of, length) = (options.techniques.len(), run::length(&options));
        progress(Progress::Started {
            technique,
            index,
            of,
            length,
        });
        match run::technique(&target, &options, technique, &tag, &schedule, &mut progress).await {
            Ok(result) => {
                progress(Progress::Finished(result.clone()));
                results.push(result);
            }
            Err(e) => {
                target.stop().await;
                return Err(format!("{technique}: {e}"));
            }
        }
    }
    target.stop().await;
    Ok(results)
}
