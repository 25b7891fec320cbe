//! Multipart streaming, mounted at `GET /push/<ch>/multipart?since=`.
//!
//! One response of type `multipart/x-mixed-replace` carries one `application/json` part per
//! event. Browsers no longer expose parts to scripts (`xhr.multipart` is gone), so the page
//! reads the body with `fetch()` and splits it on the boundary itself.

use rand::Rng;
use rand::distributions::Alphanumeric;
use rocket::http::ContentType;
use rocket::{Route, Shutdown, State};
use serde_json::json;

use super::stream::{End, Framing, Push, end_frame, reset_frame};
use super::{channel, cursor};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Event, EventId, Hub};

/// Every boundary starts with these letters, so it can only ever occur inside a JSON string.
const PREFIX: &str = "rajax";

/// The multipart framing, with a random boundary per response.
pub struct Multipart {
    boundary: String,
}

impl Multipart {
    pub fn new() -> Multipart {
        let random: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        Multipart {
            boundary: format!("{PREFIX}{random}"),
        }
    }

    /// One part. Should the boundary occur in the JSON (a payload may contain any text), its
    /// first letter is written as a `\u` escape: the same JSON value, without the boundary.
    fn part(&self, value: &impl serde::Serialize) -> String {
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json.replace(&self.boundary, &format!("\\u0072{}", &self.boundary[1..]));
        format!(
            "--{}\r\nContent-Type: application/json\r\n\r\n{json}\r\n",
            self.boundary
        )
    }
}

impl Default for Multipart {
    fn default() -> Self {
        Multipart::new()
    }
}

impl Framing for Multipart {
    fn content_type(&self) -> ContentType {
        ContentType::new("multipart", "x-mixed-replace")
            .with_params(("boundary", self.boundary.clone()))
    }

    fn start(&mut self, reset: bool, cursor: &EventId) -> String {
        if reset {
            self.part(&reset_frame(cursor))
        } else {
            String::new()
        }
    }

    fn event(&mut self, event: &Event) -> String {
        self.part(event)
    }

    fn heartbeat(&mut self) -> String {
        self.part(&json!({"type": "heartbeat"}))
    }

    fn end(&mut self, why: End, cursor: &EventId) -> String {
        let last = self.part(&end_frame(why, cursor));
        format!("{last}--{}--\r\n", self.boundary)
    }
}

/// Streams the channel's events as `multipart/x-mixed-replace`, resuming after `since`.
#[get("/push/<ch>/multipart?<since>")]
pub async fn multipart(
    ch: &str,
    since: Option<&str>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
    shutdown: Shutdown,
) -> Result<Push<Multipart>, AppError> {
    let subscription = hub
        .subscribe(&channel(ch)?, cursor(since)?.as_ref())
        .await?;
    Ok(Push {
        framing: Multipart::new(),
        subscription,
        heartbeat: config.heartbeat(),
        shutdown,
    })
}

pub fn routes() -> Vec<Route> {
    routes![multipart]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_never_contains_the_boundary() {
        let framing = Multipart::new();
        let evil = format!("--{}\r\n", framing.boundary);
        let part = framing.part(&json!({ "data": evil }));
        let body = part.split_once("\r\n\r\n").unwrap().1;
        assert!(!body.contains(&framing.boundary));
        let back: serde_json::Value = serde_json::from_str(body.trim_end()).unwrap();
        assert_eq!(back["data"], evil);
    }
}
