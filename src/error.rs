//! One error type for handlers and guards, one status table, and the JSON catcher of the
//! machine-facing prefixes (`/api`, `/push`). The pages register their own HTML catcher at
//! `/`; a machine-facing route mounted there says so with [`json_errors`].

use rocket::data::ToByteUnit;
use rocket::fairing::AdHoc;
use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::route::{Handler, Outcome};
use rocket::serde::json::Json;
use rocket::{Catcher, Data, Route};

use crate::hub::HubError;

/// Everything a handler or guard may refuse, each with a one-line message for the client.
#[derive(Debug, Clone)]
pub enum AppError {
    BadRequest(String),
    /// 401: no token where one is needed, or one that cannot be verified.
    Unauthorized(String),
    /// 403: a valid token that does not cover the channel, or another site's page.
    Forbidden(String),
    NotFound(String),
    PayloadTooLarge(String),
    UnsupportedMediaType(String),
    /// 503: nothing was done; trying again later may work.
    Unavailable(String),
    /// 504: the backend did not answer in time; what was asked may or may not have happened.
    OutcomeUnknown(String),
    /// 429: over a rate limit; try again after the given number of seconds.
    TooManyRequests(String, u64),
    /// 503: a connection limit is reached; try again after the given number of seconds.
    Busy(String, u64),
    /// Any other status, as Rocket produced it (an unknown route, an unparsable form).
    Status(Status, String),
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest(message.into())
    }

    pub fn status(&self) -> Status {
        match self {
            AppError::BadRequest(_) => Status::BadRequest,
            AppError::Unauthorized(_) => Status::Unauthorized,
            AppError::Forbidden(_) => Status::Forbidden,
            AppError::NotFound(_) => Status::NotFound,
            AppError::PayloadTooLarge(_) => Status::PayloadTooLarge,
            AppError::UnsupportedMediaType(_) => Status::UnsupportedMediaType,
            AppError::Unavailable(_) => Status::ServiceUnavailable,
            AppError::OutcomeUnknown(_) => Status::GatewayTimeout,
            AppError::TooManyRequests(..) => Status::TooManyRequests,
            AppError::Busy(..) => Status::ServiceUnavailable,
            AppError::Status(status, _) => *status,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            AppError::BadRequest(m)
            | AppError::Unauthorized(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::PayloadTooLarge(m)
            | AppError::UnsupportedMediaType(m)
            | AppError::Unavailable(m)
            | AppError::OutcomeUnknown(m)
            | AppError::TooManyRequests(m, _)
            | AppError::Busy(m, _)
            | AppError::Status(_, m) => m,
        }
    }

    /// The `Retry-After` of a limit, in seconds.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests(_, s) | AppError::Busy(_, s) => Some(*s),
            _ => None,
        }
    }
}

/// Reads a request body of at most `max` bytes: 400 when it cannot be read, 413 (saying that
/// `what` is at most `max` bytes) when it is longer. The one bounded read of every handler
/// that takes a body.
pub async fn read_body(body: Data<'_>, max: u64, what: &str) -> Result<Vec<u8>, AppError> {
    let bytes = body
        .open(max.bytes())
        .into_bytes()
        .await
        .map_err(|e| AppError::bad_request(format!("could not read the body: {e}")))?;
    if !bytes.is_complete() {
        return Err(AppError::PayloadTooLarge(format!(
            "{what} is at most {max} bytes"
        )));
    }
    Ok(bytes.into_inner())
}

/// [`read_body`] for a body that must be UTF-8 text (400 otherwise).
pub async fn read_text(body: Data<'_>, max: u64, what: &str) -> Result<String, AppError> {
    String::from_utf8(read_body(body, max, what).await?)
        .map_err(|_| AppError::bad_request(format!("{what} must be UTF-8")))
}

/// A guard's refusal, kept in the request's local cache so that the catcher answering the
/// status can give its message and headers instead of a generic one.
#[derive(Debug, Default)]
pub struct Refused(pub Option<AppError>);

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
        let mut answer = response::Response::build_from(body.respond_to(request)?);
        answer
            .status(status)
            .raw_header("Cache-Control", "no-store");
        if let Some(seconds) = self.retry_after() {
            answer.raw_header("Retry-After", seconds.to_string());
        }
        if status == Status::Unauthorized {
            answer.raw_header("WWW-Authenticate", "Bearer realm=\"reverse-ajax\"");
        }
        answer.ok()
    }
}

/// A short explanation of a status Rocket produced on its own.
pub fn describe(status: Status) -> &'static str {
    match status.code {
        400 => "the request is malformed",
        401 => "this request needs a token",
        403 => "this request is not allowed from here",
        404 => "there is nothing at this address",
        405 => "this address does not take that method",
        413 => "the request body is too large",
        415 => "this content type is not accepted here",
        422 => "the request's parameters could not be understood",
        429 => "too many requests: slow down",
        500 => "something went wrong on our side",
        _ => "the request could not be served",
    }
}

/// The refusal to answer for `status`: the guard's own, when one refused with this status,
/// else a generic one.
pub fn refusal(status: Status, request: &Request<'_>) -> AppError {
    match &request.local_cache(Refused::default).0 {
        Some(error) if error.status() == status => error.clone(),
        _ => AppError::Status(status, describe(status).to_owned()),
    }
}

/// Whether `pattern`, a route's path such as `/api/channels/<ch>/events`, matches `path`.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut wanted = pattern.split('/').filter(|s| !s.is_empty());
    let mut given = path.split('/').filter(|s| !s.is_empty());
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), _) if w.starts_with('<') && w.ends_with("..>") => return true,
            (Some(w), Some(_)) if w.starts_with('<') && w.ends_with('>') => {}
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

/// The `Allow` of an address asked with a method none of its routes take: the methods they
/// do take, GET first. `None` when no route has this path (a plain 404) or one takes the
/// method (its own refusal stands).
pub fn allowed(request: &Request<'_>) -> Option<String> {
    const ORDER: [Method; 6] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Patch,
        Method::Options,
    ];
    let path = request.uri().path();
    let taken: Vec<Method> = request
        .rocket()
        .routes()
        .filter(|route| path_matches(route.uri.path(), path.as_str()))
        .map(|route| route.method)
        .collect();
    let asked = match request.method() {
        Method::Head => Method::Get,
        other => other,
    };
    if taken.is_empty() || taken.contains(&asked) {
        return None;
    }
    let names: Vec<&str> = ORDER
        .iter()
        .filter(|m| taken.contains(m))
        .map(|m| m.as_str())
        .collect();
    Some(names.join(", "))
}

/// An error answer, with the `Allow` header of a 405.
pub struct Caught<R> {
    pub answer: R,
    pub allow: Option<String>,
}

impl<'r, R: Responder<'r, 'static>> Responder<'r, 'static> for Caught<R> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.answer.respond_to(request)?;
        if let Some(methods) = self.allow {
            response.set_raw_header("Allow", methods);
        }
        Ok(response)
    }
}

/// The status to answer for `status` and the `Allow` that goes with it: a 404 at an address
/// whose routes take other methods is a 405.
pub fn method_check(status: Status, request: &Request<'_>) -> (Status, Option<String>) {
    match status {
        Status::NotFound => match allowed(request) {
            Some(allow) => (Status::MethodNotAllowed, Some(allow)),
            None => (status, None),
        },
        _ => (status, None),
    }
}

/// `routes`, each marking the requests it takes as wanting their errors in JSON, so that
/// the pages' catcher answers them in JSON wherever the routes are mounted.
pub fn json_errors(routes: Vec<Route>) -> Vec<Route> {
    routes
        .into_iter()
        .map(|mut route| {
            route.handler = Box::new(JsonErrors(route.handler));
            route
        })
        .collect()
}

/// True when the route that took `request` was mounted through [`json_errors`].
pub fn wants_json_errors(request: &Request<'_>) -> bool {
    request.local_cache(|| WantsJson(false)).0
}

/// The mark [`JsonErrors`] leaves in a request's local cache.
struct WantsJson(bool);

/// A route's handler that marks the request before it runs (its guards run inside it).
#[derive(Clone)]
struct JsonErrors(Box<dyn Handler>);

#[rocket::async_trait]
impl Handler for JsonErrors {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        request.local_cache(|| WantsJson(true));
        self.0.handle(request, data).await
    }
}

#[catch(default)]
fn json_error(status: Status, request: &Request<'_>) -> Caught<AppError> {
    let (status, allow) = method_check(status, request);
    Caught {
        answer: refusal(status, request),
        allow,
    }
}

/// Answers every error under `/api` and `/push` in JSON.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("JSON errors", |rocket| async {
        rocket
            .register("/api", catchers())
            .register("/push", catchers())
    })
}

fn catchers() -> Vec<Catcher> {
    catchers![json_error]
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn a_route_path_matches_its_dynamic_segments_and_nothing_else() {
        let events = "/api/channels/<ch>/events";
        assert!(path_matches(events, "/api/channels/demo/events"));
        assert!(!path_matches(events, "/api/channels/demo/events/more"));
        assert!(!path_matches(events, "/api/channels/demo"));
        assert!(!path_matches(events, "/api/channels/demo/pattern"));
        assert!(path_matches("/static/<path..>", "/static/js/a.js"));
        assert!(path_matches("/", "/"));
        assert!(!path_matches("/", "/polling"));
    }
}
