//! The catcher of everything outside `/api` and `/push`: a page for people, and JSON for
//! routes mounted to answer JSON (the piggyback form, which the page posts with `fetch`,
//! see [`crate::error::json_errors`]) and any client that asks for it.
//! A page's address asked with another method than GET is a 405 with `Allow: GET`, not 404
//! (as under `/api` and `/push`, by [`crate::error::method_check`]).

use rocket::Catcher;
use rocket::http::Status;
use rocket::request::Request;
use rocket::response::Responder;
use rocket_dyn_templates::context;

use super::assets::Assets;
use super::catalog;
use super::context::PageContext;
use crate::error::{AppError, Caught, method_check, refusal, wants_json_errors};

/// A catcher's answer: JSON for machines, a page for people.
#[derive(Responder)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per error answer, never stored"
)]
enum ErrorAnswer {
    Json(AppError),
    Page((Status, super::Html)),
}

/// True for requests that expect a JSON answer.
fn wants_json(request: &Request<'_>) -> bool {
    wants_json_errors(request) || request.format().is_some_and(|f| f.is_json())
}

/// True when `request`'s path is one of the pages (which answer GET, and HEAD through it).
fn is_page(request: &Request<'_>) -> bool {
    let mut segments = request.uri().path().segments();
    match (segments.next(), segments.next()) {
        (None, _) => true,
        (Some(slug), None) => slug == "favicon.ico" || catalog::find(slug).is_some(),
        _ => false,
    }
}

#[catch(default)]
fn page_error(status: Status, request: &Request<'_>) -> Caught<ErrorAnswer> {
    // Every single-segment path matches the pages' `/<slug>` route: only a page's own
    // address is a 405.
    let (status, allow) = match is_page(request) {
        true => method_check(status, request),
        false => (status, None),
    };
    let error = refusal(status, request);
    if wants_json(request) {
        let answer = ErrorAnswer::Json(error);
        return Caught { answer, allow };
    }
    // The pages' stage always manages the static files; without them, no page can be drawn.
    let Some(assets) = request.rocket().state::<Assets>() else {
        let answer = ErrorAnswer::Json(error);
        return Caught { answer, allow };
    };
    let page = PageContext::new("Error", None, assets);
    let message = error.message();
    let html = super::render("error", context! { page, code: status.code, message });
    let answer = ErrorAnswer::Page((status, html));
    Caught { answer, allow }
}

pub fn catchers() -> Vec<Catcher> {
    catchers![page_error]
}
