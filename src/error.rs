//! One error type for handlers, one status table, and the catchers that answer everything
//! Rocket itself refuses (unknown routes, unparsable forms) in JSON or HTML as fits.

use rocket::Catcher;
use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket_dyn_templates::{Template, context};

use crate::hub::HubError;

/// Everything a handler may refuse, each with a one-line message for the client.
#[derive(Debug)]
pub enum AppError {
    BadRequest(String),
    NotFound(String),
    PayloadTooLarge(String),
    UnsupportedMediaType(String),
    /// 503: nothing was done; trying again later may work.
    Unavailable(String),
    /// 504: the backend did not answer in time; what was asked may or may not have happened.
    OutcomeUnknown(String),
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest(message.into())
    }

    pub fn status(&self) -> Status {
        match self {
            AppError::BadRequest(_) => Status::BadRequest,
            AppError::NotFound(_) => Status::NotFound,
            AppError::PayloadTooLarge(_) => Status::PayloadTooLarge,
            AppError::UnsupportedMediaType(_) => Status::UnsupportedMediaType,
            AppError::Unavailable(_) => Status::ServiceUnavailable,
            AppError::OutcomeUnknown(_) => Status::GatewayTimeout,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            AppError::BadRequest(m)
            | AppError::NotFound(m)
            | AppError::PayloadTooLarge(m)
            | AppError::UnsupportedMediaType(m)
            | AppError::Unavailable(m)
            | AppError::OutcomeUnknown(m) => m,
        }
    }
}

impl From<HubError> for AppError {
    fn from(error: HubError) -> AppError {
        match error {
            HubError::Unknown(_) => AppError::OutcomeUnknown(error.to_string()),
            HubError::Full | HubError::Unavailable(_) => AppError::Unavailable(error.to_string()),
        }
    }
}

/// The JSON body of every API error.
#[derive(Debug, serde::Serialize)]
pub struct ErrorBody {
    pub error: String,
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        // The only server-side refusal is "the hub is unavailable", and the hub logs that
        // itself, once per outage; logging it again per request would flood the log.
        if self.status().code >= 500 {
            rocket::debug!(
                "{} answered {}: {}",
                request.uri(),
                self.status(),
                self.message()
            );
        }
        let status = self.status();
        let body = Json(ErrorBody {
            error: self.message().to_owned(),
        });
        response::Response::build_from(body.respond_to(request)?)
            .status(status)
            .raw_header("Cache-Control", "no-store")
            .ok()
    }
}

/// True for the machine-facing parts of the site, which answer errors in JSON.
fn wants_json(request: &Request<'_>) -> bool {
    let path = request.uri().path();
    path.starts_with("/api/")
        || path.starts_with("/push/")
        || (path == "/piggyback" && request.method() == rocket::http::Method::Post)
        || request.format().is_some_and(|f| f.is_json())
}

/// A short explanation of a status Rocket produced on its own.
fn describe(status: Status) -> &'static str {
    match status.code {
        400 => "the request is malformed",
        403 => "this request is not allowed from here",
        404 => "there is nothing at this address",
        413 => "the request body is too large",
        415 => "this content type is not accepted here",
        422 => "the request's parameters could not be understood",
        500 => "something went wrong on our side",
        _ => "the request could not be served",
    }
}

/// A catcher's answer: JSON for machines, a page for people.
#[derive(Responder)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per error answer, never stored"
)]
enum ErrorAnswer {
    Json(Json<ErrorBody>),
    Page(Template),
}

#[catch(default)]
fn any_error(status: Status, request: &Request<'_>) -> (Status, ErrorAnswer) {
    let message = describe(status);
    if wants_json(request) {
        return (
            status,
            ErrorAnswer::Json(Json(ErrorBody {
                error: message.to_owned(),
            })),
        );
    }
    let page = crate::pages::context::PageContext::new("Error", None);
    let html = Template::render("error", context! { page, code: status.code, message });
    (status, ErrorAnswer::Page(html))
}

/// The catchers every part of the site shares.
pub fn catchers() -> Vec<Catcher> {
    catchers![any_error]
}
