//! The catcher of everything outside `/api` and `/push`: a page for people, and JSON for
//! the piggyback form (which the page posts with `fetch`) and any client that asks for it.
//! A page's address asked with another method than GET is a 405 with `Allow: GET`, not 404.

use rocket::Catcher;
use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket_dyn_templates::context;

use super::assets::Assets;
use super::catalog;
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
    Page((Status, super::Html)),
}

/// True for requests that expect a JSON answer.
fn wants_json(request: &Request<'_>) -> bool {
    (request.uri().path() == "/piggyback" && request.method() == Method::Post)
        || request.format().is_some_and(|f| f.is_json())
}

/// The answer, and the methods the address takes when that was the problem.
struct Caught {
    answer: ErrorAnswer,
    allow: Option<String>,
}

impl<'r> Responder<'r, 'static> for Caught {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.answer.respond_to(request)?;
        if let Some(methods) = self.allow {
            response.set_raw_header("Allow", methods);
        }
        Ok(response)
    }
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

/// The methods `request`'s page address takes: GET, and those of routes mounted at exactly
/// this path (the piggyback form's POST).
fn allowed(request: &Request<'_>) -> String {
    let path = request.uri().path();
    let mut methods = vec![Method::Get];
    for route in request.rocket().routes() {
        if route.uri.path() == path.as_str() && !methods.contains(&route.method) {
            methods.push(route.method);
        }
    }
    let names: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
    names.join(", ")
}

#[catch(default)]
fn page_error(status: Status, request: &Request<'_>) -> Caught {
    let wrong_method = status == Status::NotFound
        && !matches!(request.method(), Method::Get | Method::Head)
        && is_page(request);
    let (status, allow) = if wrong_method {
        (Status::MethodNotAllowed, Some(allowed(request)))
    } else {
        (status, None)
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
