//! Multipart streaming, mounted at `GET /push/<ch>/multipart?since=`.
//!
//! One response of type `multipart/x-mixed-replace` carries one `application/json` part per
//! event. Browsers no longer expose parts to scripts (`xhr.multipart` is gone), so the page
//! reads the body with `fetch()` and splits it on the boundary itself.

use rand::Rng;
use rand::distributions::Alphanumeric;
use rocket::http::ContentType;
use rocket::request::Request;
use rocket::{Route, State};

use super::guard::Connection;
use super::pump::End;
use super::stream::{Framing, Opening, Push, end_frame, heartbeat_frame};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Event, EventId, Form, Hub};
use crate::wire::{Serves, Technique, cursor};

/// The route's technique.
pub struct MultipartStreaming;

impl Serves for MultipartStreaming {
    fn technique(_: &Request<'_>) -> Technique {
        Technique::MultipartStreaming
    }
}

/// Every boundary starts with these letters, and no part ever contains them (see
/// [`without_prefix`]), so no part can contain the boundary.
const PREFIX: &str = "rajax";

/// The multipart framing, with a random boundary per response.
pub struct Multipart {
    boundary: String,
    /// `--<boundary>` and the part's headers: what opens every part.
    opening: String,
}

impl Multipart {
    pub fn new() -> Multipart {
        let random: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        let boundary = format!("{PREFIX}{random}");
        let opening = format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n");
        Multipart { boundary, opening }
    }

    /// One part carrying `json`, which must already be free of [`PREFIX`].
    fn part(&self, json: &str, out: &mut Vec<u8>) {
        for piece in [self.opening.as_str(), json, "\r\n"] {
            out.extend_from_slice(piece.as_bytes());
        }
    }

    /// One part carrying a control frame.
    fn frame(&self, frame: &serde_json::Value, out: &mut Vec<u8>) {
        let json = frame.to_string();
        self.part(&without_prefix(&json).unwrap_or(json), out);
    }
}

/// JSON text that never contains [`PREFIX`], with the same meaning: a literal `r` that starts
/// it becomes `\u0072`, and an escaped one (`\r`, a carriage return, followed by `ajax`)
/// becomes `\u000d`. `None` when the text has no such place.
fn without_prefix(json: &str) -> Option<String> {
    if !json.contains(PREFIX) {
        return None;
    }
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + 16);
    let mut done = 0;
    for (at, _) in json.match_indices(PREFIX) {
        let backslashes = bytes[..at]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 1 {
            out.push_str(&json[done..at - 1]);
            out.push_str("\\u000d");
        } else {
            out.push_str(&json[done..at]);
            out.push_str("\\u0072");
        }
        done = at + 1;
    }
    out.push_str(&json[done..]);
    Some(out)
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

    fn start(&mut self, opening: &Opening, out: &mut Vec<u8>) {
        for frame in opening.frames() {
            self.frame(&frame, out);
        }
    }

    fn event(&mut self, event: &Event, out: &mut Vec<u8>) {
        self.part(event.form(Form::PartSafe, without_prefix), out);
    }

    fn heartbeat(&mut self, out: &mut Vec<u8>) {
        self.frame(&heartbeat_frame(), out);
    }

    fn end(&mut self, why: End, cursor: &EventId, out: &mut Vec<u8>) {
        self.frame(&end_frame(why, cursor), out);
        out.extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
    }
}

/// Streams the channel's events as `multipart/x-mixed-replace`, resuming after `since`.
#[get("/push/<_>/multipart?<since>")]
pub async fn multipart(
    since: Option<&str>,
    listener: Connection<MultipartStreaming>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Push<Multipart>, AppError> {
    let subscription = hub
        .subscribe(&listener.channel, cursor(since)?.as_ref())
        .await?;
    Ok(Push::new(
        Multipart::new(),
        subscription,
        config,
        listener.place(),
    ))
}

pub fn routes() -> Vec<Route> {
    routes![multipart]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_payload_never_contains_the_boundary() {
        let framing = Multipart::new();
        let evil = format!("--{}\r\n \rajax rajax\\rajax \\\rajax", framing.boundary);
        let json = json!({ "data": evil }).to_string();
        let mut part = Vec::new();
        framing.part(&without_prefix(&json).expect("escaped"), &mut part);
        let part = String::from_utf8(part).unwrap();
        let body = part.split_once("\r\n\r\n").unwrap().1;
        assert!(!body.contains(PREFIX), "{body}");
        let back: serde_json::Value = serde_json::from_str(body.trim_end()).unwrap();
        assert_eq!(back["data"], evil);
        assert_eq!(without_prefix(r#"{"a":"plain"}"#), None);
    }
}
