//! reverse-ajax: every Reverse Ajax technique of "Reverse Ajax, Part 1: Introduction to
//! Comet", served live from one Rocket application over one event hub.
//!
//! This file only composes the feature modules; each one mounts its own routes and manages
//! its own state in its `stage()`.

#[macro_use]
extern crate rocket;

pub mod access;
pub mod cli;
mod clock;
pub mod config;
mod doctor;
mod embedded;
mod error;
pub mod experiment;
pub mod hub;
mod listener;
pub mod load;
mod metrics;
pub mod pages;
pub mod patterns;
pub mod postal;
#[cfg(test)]
mod properties;
mod publish;
mod security;
mod ticker;
mod transports;
pub mod wire;

use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// The application with the configuration from `Rocket.toml` and the environment.
pub fn rocket() -> Rocket<Build> {
    rocket_from(config::figment())
}

/// The application with the given configuration; tests use this to set their own keys.
pub fn rocket_from(figment: Figment) -> Rocket<Build> {
    // The templates, static files and postal data are compiled into the binary, so it runs
    // from any directory; `template_dir`, `assets.static_dir` and `postal.data` point it at
    // folders instead (see README, "Installing it").
    let (figment, templates) = pages::templates(figment);
    rocket::custom(figment)
        .attach(templates)
        .attach(security::stage())
        .attach(listener::stage())
        .attach(access::stage())
        .attach(metrics::stage())
        .attach(error::stage())
        .attach(hub::stage())
        .attach(ticker::stage())
        .attach(patterns::stage())
        .attach(clock::stage())
        .attach(publish::stage())
        .attach(transports::stage())
        .attach(pages::stage())
        .attach(postal::stage())
        .attach(experiment::web::stage())
        .attach(doctor::stage())
}
