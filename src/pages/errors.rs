//! The catcher of everything outside `/api` and `/push`: a page for people, and JSON for
//! the piggyback form (which the page posts with `fetch`) and any client that asks for it.

use rocket::Catcher;
use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket_dyn_templates::{Template, context};

use super::context::PageContext;
use crate::error::{AppError, refusal};

/// A catcher's answer: JSON for machines, a page for people.
#[derive(Responder)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per error answer, never stored"
)]
enum ErrorAnswer {
    Json(AppError),
    Page((Status, Template)),
}

/// True for requests that expect a JSON answer.
fn wants_json(request: &Request<'_>) -> bool {
    (request.uri().path() == "/piggyback" && request.method() == Method::Post)
        || request.format().is_some_and(|f| f.is_json())
}

#[catch(default)]
fn page_error(status: Status, request: &Request<'_>) -> ErrorAnswer {
    let error = refusal(status, request);
    if wants_json(request) {
        return ErrorAnswer::Json(error);
    }
    let page = PageContext::new("Error", None);
    let message = error.message();
    let html = Template::render("error", context! { page, code: status.code, message });
    ErrorAnswer::Page((status, html))
}

pub fn catchers() -> Vec<Catcher> {
    catchers![page_error]
}
