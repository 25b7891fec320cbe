//! The publish API, mounted at `POST /api/channels/<ch>/events`.
//!
//! A JSON body (any JSON value) or a `text/plain` body becomes one event on the channel.

use crate::config::{self, PublishConfig};
use crate::error::AppError;
use crate::hub::{EventId, Hub, Payload};
use crate::transports::channel;
use rocket::data::{Data, ToByteUnit};
use rocket::fairing::AdHoc;
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{Route, State};

/// The answer to a successful publish.
#[derive(Debug, serde::Serialize)]
pub struct Published {
    pub id: EventId,
}

/// Stores the body as an event and answers `201 {"id":"<epoch>-<seq>"}`. A bad channel name or
/// malformed JSON is a 400, a body over `publish.max_body` a 413, any other content type a 415.
#[post("/api/channels/<ch>/events", data = "<body>")]
pub async fn publish(
    ch: &str,
    content_type: Option<&ContentType>,
    body: Data<'_>,
    hub: &State<Hub>,
    config: &State<PublishConfig>,
) -> Result<(Status, Json<Published>), AppError> {
    let channel = channel(ch)?;
    let data = read_body(content_type, body, config.max_body).await?;
    let event = hub.publish(&channel, data).await?;
    Ok((
        Status::Created,
        Json(Published {
            id: event.id.clone(),
        }),
    ))
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
    let bytes = body
        .open(max.bytes())
        .into_bytes()
        .await
        .map_err(|e| AppError::bad_request(format!("could not read the body: {e}")))?;
    if !bytes.is_complete() {
        return Err(AppError::PayloadTooLarge(format!(
            "an event body is at most {max} bytes"
        )));
    }
    if is_json {
        Payload::from_json(&bytes)
            .map_err(|e| AppError::bad_request(format!("the body is not valid JSON: {e}")))
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
    AdHoc::try_on_ignite("Publish API", |rocket| async {
        match config::section::<PublishConfig>(rocket.figment(), "publish") {
            Ok(config) => Ok(rocket.manage(config).mount("/", routes())),
            Err(message) => {
                rocket::error!("{message}");
                Err(rocket)
            }
        }
    })
}
