//! The experiment from the web (the lab's "Run on the server"): `POST /api/experiments`
//! starts [`crate::experiment::run`] in the background and answers `202` with its id;
//! `GET /api/experiments/<id>` streams its progress as Server-Sent Events and ends with
//! `event: result`, whose data is the JSON of `reverse-ajax experiment --format json`.
//!
//! Like the command line, a run measures a child server: this binary started with `serve` on
//! a free 127.0.0.1 port, ticker off and limits lifted. So the site's visitors, limits and
//! `/metrics` are untouched, the child's CPU time is its own, and nothing needs to be set up
//! on a fresh `cargo run`. The simulated clients run inside this process.
//!
//! Limits: one experiment at a time (429 with `Retry-After`), at most `[experiments]
//! max_clients` and `max_seconds` (400), only from this site's pages ([`SameSite`], 403)
//! and, on an address other than loopback, only with a valid token (the rule of
//! `/metrics`, [`Operator`]).

mod ask;
mod runs;

use std::path::PathBuf;
use std::time::Duration;

use rocket::data::Data;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::http::Status;
use rocket::request::Request;
use rocket::response::stream::EventStream;
use rocket::response::{self as response, Responder, Response};
use rocket::serde::json::Json;
use rocket::{Route, Shutdown, State};
use serde::Deserialize;

use crate::access::{Endpoint, Operator, SameSite};
use crate::config;
use crate::error::{self, AppError};
use crate::experiment::{MAX_CLIENTS, MAX_SECONDS, Options};
use crate::transports::stream::stream_headers;
use runs::{Run, Runs};

/// The largest body `POST /api/experiments` reads.
const MAX_BODY: u64 = 1024;

/// `[experiments]`: the experiment as the web may start it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentsConfig {
    /// Mount `/api/experiments`.
    pub enabled: bool,
    /// The most simulated clients per technique a web request may ask for.
    pub max_clients: usize,
    /// The most seconds of events per technique a web request may ask for.
    pub max_seconds: u64,
    /// How long a finished experiment's result stays readable, in milliseconds.
    pub keep_ms: u64,
    /// The `reverse-ajax` binary the child server is started from; unset: this process's
    /// own executable.
    pub binary: Option<PathBuf>,
}

impl Default for ExperimentsConfig {
    fn default() -> Self {
        ExperimentsConfig {
            enabled: true,
            max_clients: 500,
            max_seconds: 120,
            keep_ms: 600_000,
            binary: None,
        }
    }
}

impl ExperimentsConfig {
    pub fn keep(&self) -> Duration {
        Duration::from_millis(self.keep_ms)
    }
}

impl config::Section for ExperimentsConfig {
    const NAME: &'static str = "experiments";
    const RENAMED: &'static [(&'static str, &'static str)] =
        &[("keep_seconds", "experiments.keep_ms")];

    /// Rejects bounds beyond the experiment's own and a zero keeping time.
    fn check(self) -> Result<Self, String> {
        if !(1..=MAX_CLIENTS).contains(&self.max_clients) {
            return Err(format!(
                "experiments.max_clients must be 1 to {MAX_CLIENTS}"
            ));
        }
        if !(1..=MAX_SECONDS).contains(&self.max_seconds) {
            return Err(format!(
                "experiments.max_seconds must be 1 to {MAX_SECONDS}"
            ));
        }
        if self.keep_ms == 0 {
            return Err("experiments.keep_ms must be > 0".into());
        }
        Ok(self)
    }
}

/// What the routes share: the bounds, the binary and the runs.
#[derive(Debug)]
struct Lab {
    config: ExperimentsConfig,
    binary: PathBuf,
    runs: Runs,
}

/// Starting an experiment, as the operator's guard admits it: anyone on loopback, a token
/// holder elsewhere.
struct Start;

impl Endpoint for Start {
    const NEEDS: &'static str =
        "starting an experiment needs a token on this address: send `Authorization: Bearer <jwt>`";
}

/// `202 {"id":"…"}` with the experiment's address in `Location`.
struct Started(String);

impl<'r> Responder<'r, 'static> for Started {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let location = format!("/api/experiments/{}", self.0);
        let body = Json(serde_json::json!({ "id": self.0 }));
        Response::build_from(body.respond_to(request)?)
            .status(Status::Accepted)
            .raw_header("Location", location)
            .header(crate::wire::no_store())
            .ok()
    }
}

/// An event stream with the headers of every stream of this site (`no-store`, no proxy
/// buffering) in place of Rocket's own `no-cache`.
struct Streamed<R>(R);

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for Streamed<R> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'o> {
        let mut response = self.0.respond_to(request)?;
        response.remove_header("Expires");
        for header in stream_headers() {
            response.set_header(header);
        }
        Ok(response)
    }
}

/// Starts an experiment of every technique with the body's clients, seconds, pattern and
/// interval, against a child server: 202 and its id, 400 for a body out of bounds or of
/// another shape, 429 while one runs.
#[post("/api/experiments", data = "<body>")]
async fn start(
    _site: SameSite,
    _operator: Operator<Start>,
    body: Data<'_>,
    lab: &State<Lab>,
    shutdown: Shutdown,
) -> Result<Started, AppError> {
    let text = error::read_text(body, MAX_BODY, "the body").await?;
    let options = ask::options(&text, &lab.config, &lab.binary).map_err(AppError::BadRequest)?;
    let run = lab.runs.begin(options.techniques.len(), options.length())?;
    let id = run.id.clone();
    rocket::tokio::spawn(drive(lab.runs.clone(), run, options, shutdown));
    Ok(Started(id))
}

/// Runs the experiment, recording its progress, until it ends or the server shuts down
/// (which stops the child server with it).
async fn drive(runs: Runs, run: std::sync::Arc<Run>, options: Options, shutdown: Shutdown) {
    // Every simulated client holds a socket in this process.
    if let Err(e) = crate::experiment::raise_file_limit() {
        rocket::warn!("experiment {}: {e}", run.id);
    }
    let recorder = std::sync::Arc::clone(&run);
    let outcome = rocket::tokio::select! {
        outcome = crate::experiment::run(options, move |p| recorder.record(p)) => outcome,
        () = shutdown => Err("the server is shutting down".to_owned()),
    };
    if let Err(e) = &outcome {
        rocket::warn!("experiment {} failed: {e}", run.id);
    }
    run.finish(outcome);
    runs.end(&run);
}

/// Streams the experiment's progress (`event: progress`, JSON data with a `state` of
/// `starting`, `started`, `running`, `warning` or `finished`) from its start, then
/// `event: result` (the JSON array of `--format json`) or `event: failed`, and ends.
#[get("/api/experiments/<id>")]
fn follow(
    id: &str,
    lab: &State<Lab>,
    mut shutdown: Shutdown,
) -> Result<Streamed<EventStream![]>, AppError> {
    let run = lab.runs.find(id).ok_or_else(|| {
        AppError::NotFound(format!(
            "no experiment {id:?} (a finished one is kept for {:?})",
            lab.config.keep()
        ))
    })?;
    let mut follower = run.follow();
    Ok(Streamed(EventStream! {
        loop {
            let frames = rocket::tokio::select! {
                frames = follower.next() => frames,
                () = &mut shutdown => None,
            };
            let Some(frames) = frames else { break };
            for frame in frames {
                yield frame.into_event();
            }
        }
    }))
}

fn routes() -> Vec<Route> {
    routes![start, follow]
}

/// Reads `[experiments]`; when enabled, manages the runs and mounts the two routes.
pub fn stage() -> AdHoc {
    config::stage("Experiments", read, |rocket, (config, binary)| {
        if !config.enabled {
            return rocket;
        }
        let runs = Runs::new(config.keep());
        rocket
            .manage(Lab {
                config,
                binary,
                runs,
            })
            .mount("/", routes())
    })
}

/// `[experiments]`, and the binary the child server runs.
fn read(figment: &Figment) -> Result<(ExperimentsConfig, PathBuf), String> {
    let config = config::read::<ExperimentsConfig>(figment)?;
    let binary = match &config.binary {
        Some(path) if !path.is_file() => {
            return Err(format!(
                "experiments.binary: {} is not a file",
                path.display()
            ));
        }
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .map_err(|e| format!("experiments: where is this binary? {e}"))?,
    };
    Ok((config, binary))
}
