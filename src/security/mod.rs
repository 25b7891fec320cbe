//! Security headers on every answer, attached in one stage.
//!
//! Rocket's default Shield is replaced by one that keeps its useful headers (`nosniff`,
//! `X-Frame-Options: SAMEORIGIN`) and adds a `Referrer-Policy` and a stricter
//! `Permissions-Policy`. A response fairing puts a Content-Security-Policy on every HTML
//! answer, error pages included, and `POST /api/csp-reports` logs what browsers report
//! against it.

pub mod csp;
mod reports;

use rocket::fairing::AdHoc;
use rocket::shield::{Feature, Frame, NoSniff, Permission, Referrer, Shield};

/// Powerful browser features no page here uses; `Permissions-Policy` turns each one off for
/// the pages and every frame in them.
const UNUSED_FEATURES: &[Feature] = &[
    Feature::Accelerometer,
    Feature::Camera,
    Feature::Displaycapture,
    Feature::Geolocation,
    Feature::Gyroscope,
    Feature::Hid,
    Feature::InterestCohort,
    Feature::Magnetometer,
    Feature::Microphone,
    Feature::Midi,
    Feature::Payment,
    Feature::PublickeyCredentialsGet,
    Feature::ScreenWakeLock,
    Feature::Serial,
    Feature::Usb,
    Feature::XrSpatialTracking,
];

/// The Shield: Rocket's defaults, a referrer policy and the features above blocked.
fn shield() -> Shield {
    let permissions = UNUSED_FEATURES
        .iter()
        .fold(Permission::default(), |p, &feature| p.block(feature));
    Shield::new()
        .enable(NoSniff::default())
        // The forever iframe is a page of this site inside another page of this site.
        .enable(Frame::SameOrigin)
        // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends
        // `Origin: null` on the site's own POSTs (publish, piggyback), which would make them
        // look cross-site to an origin check. Other sites still learn nothing.
        .enable(Referrer::SameOrigin)
        .enable(permissions)
}

/// Replaces the default Shield, adds the CSP fairing and mounts the report endpoint.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Security headers", |rocket| async {
        rocket
            .attach(shield())
            .attach(csp::PolicyFairing)
            .manage(reports::Budget::default())
            .mount("/", reports::routes())
    })
}
