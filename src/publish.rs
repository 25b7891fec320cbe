//! The publish API, mounted at `POST /api/channels/<ch>/events`.
//!
//! A JSON body (any JSON value) or a `text/plain` body becomes one event on the channel. With
//! an `Idempotency-Key` header, a repeat of the same key on the same channel (within
//! `publish.idempotency_ttl_ms`) stores nothing and answers the first event's id, so a client
//! may retry a publish whose answer it did not get.

use rocket::data::Data;
use rocket::fairing::AdHoc;
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::Json;
use rocket::{Route, State};

use crate::access::Writer;
use crate::config::{self, PublishConfig};
use crate::error::{self, AppError};
use crate::hub::{Channel, EventId, Hub, IdempotencyKey, Payload, Published};
use crate::metrics::{PublishOutcome, Publishes};

/// The answer to a publish: the event's id, and `duplicate` when the key was used before.
#[derive(Debug, serde::Serialize)]
pub struct Answer {
    pub id: EventId,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// May publish (access's [`Writer`]), with the counters of what becomes of each publish. A
/// refused writer counts as a refused publish.
#[derive(Debug)]
pub struct Publishing {
    pub writer: Writer,
    pub publishes: Publishes,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Publishing {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AppError> {
        let publishes = Publishes::of(request);
        match Writer::from_request(request).await {
            Outcome::Success(writer) => Outcome::Success(Publishing { writer, publishes }),
            refused => {
                publishes.count(PublishOutcome::Refused);
                refused.map(|writer| Publishing { writer, publishes })
            }
        }
    }
}

/// The `Idempotency-Key` header as it was sent, if it was.
pub struct KeyHeader<'r>(Option<&'r str>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for KeyHeader<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(KeyHeader(request.headers().get_one("Idempotency-Key")))
    }
}

/// Stores the body as an event and answers `201 {"id":"<epoch>-<seq>"}`, or, for a key used
/// before, `200 {"id":<the first event's id>,"duplicate":true}`. A bad channel name, malformed
/// JSON, JSON that breaks the publish rule (see `hub::payload`) or a malformed key is a 400,
/// a body over `publish.max_body` a 413, any other content type a 415. 503 means the event was
/// not stored; 504 that it may have been (retry with the same key).
#[post("/api/channels/<_>/events", data = "<body>")]
pub async fn publish(
    content_type: Option<&ContentType>,
    key: KeyHeader<'_>,
    writer: Publishing,
    body: Data<'_>,
    hub: &State<Hub>,
    config: &State<PublishConfig>,
) -> Result<(Status, Json<Answer>), AppError> {
    let channel = &writer.writer.channel;
    let stored = store((channel, content_type, key), body, hub, config).await;
    writer.publishes.count(match &stored {
        Ok(Published::Stored(_)) => PublishOutcome::Stored,
        Ok(Published::Duplicate(_)) => PublishOutcome::Duplicate,
        Err(error) => PublishOutcome::of_error(error),
    });
    Ok(match stored? {
        Published::Stored(event) => (
            Status::Created,
            Json(Answer {
                id: event.id.clone(),
                duplicate: false,
            }),
        ),
        Published::Duplicate(id) => (
            Status::Ok,
            Json(Answer {
                id,
                duplicate: true,
            }),
        ),
    })
}

/// Checks the publish and hands it to the hub.
async fn store(
    (channel, content_type, key): (&Channel, Option<&ContentType>, KeyHeader<'_>),
    body: Data<'_>,
    hub: &Hub,
    config: &PublishConfig,
) -> Result<Published, AppError> {
    let key = key
        .0
        .map(|k| IdempotencyKey::parse(k, config.idempotency_ttl()))
        .transpose()
        .map_err(AppError::BadRequest)?;
    let data = read_body(content_type, body, config.max_body).await?;
    Ok(hub.publish_once(channel, data, key.as_ref()).await?)
}

/// Turns a request body into the event's data, enforcing the size limit and the content type.
/// JSON is checked and made compact here, once; the hub keeps it as that text.
async fn read_body(
    content_type: Option<&ContentType>,
    body: Data<'_>,
    max: u64,
) -> Result<Payload, AppError> {
    let is_json = content_type.is_some_and(|ct| ct.is_json());
    let is_text = content_type.is_some_and(|ct| ct.is_text());
    if !is_json && !is_text {
        return Err(AppError::UnsupportedMediaType(
            "send the event as application/json or text/plain".to_owned(),
        ));
    }
    let bytes = error::read_body(body, max, "an event body").await?;
    if is_json {
        Payload::from_json(&bytes).map_err(AppError::bad_request)
    } else {
        std::str::from_utf8(&bytes)
            .map(Payload::text)
            .map_err(|_| AppError::bad_request("a text/plain body must be UTF-8"))
    }
}

pub fn routes() -> Vec<Route> {
    routes![publish]
}

/// Reads `[publish]` and mounts the publish API.
pub fn stage() -> AdHoc {
    config::stage(
        "Publish API",
        config::read::<PublishConfig>,
        |rocket, config| rocket.manage(config).mount("/", routes()),
    )
}
