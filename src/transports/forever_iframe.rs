//! The forever iframe, mounted at `GET /push/<ch>/iframe?since=`.
//!
//! A hidden iframe loads an HTML document that never finishes: each event arrives as one more
//! `<script>` element that hands the event to the parent page. The document ends after a byte
//! budget, because a browser keeps every script of a page it is still loading; the parent
//! then reloads the iframe from its last id.
//!
//! The document's scripts are inline, so each answer carries its own Content-Security-Policy
//! with a fresh nonce, and every `<script>` in it carries that nonce.

use super::guard::Connection;
use super::pump::End;
use super::stream::{Framing, Opening, Push, end_frame};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Event, EventId, Hub};
use crate::security::csp;
use crate::wire::jsonp::{script_safe, script_safe_json};
use crate::wire::{Serves, Technique, cursor};
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::{Route, State};

/// The route's technique.
pub struct ForeverIframe;

impl Serves for ForeverIframe {
    fn technique(_: &Request<'_>) -> Technique {
        Technique::ForeverIframe
    }
}

/// Browsers hold back the first bytes of a document before they run anything in it; this much
/// padding makes sure the first event is not stuck behind that buffer.
const PADDING: usize = 1024;

/// The HTML framing: one `<script>` per frame, calling `parent.foreverIframe(frame)`.
pub struct Iframe {
    budget: usize,
    /// `<script nonce="…">parent.foreverIframe(`, built once per answer.
    call: String,
}

impl Iframe {
    pub fn new(budget: usize, nonce: &str) -> Iframe {
        let call = format!("<script nonce=\"{nonce}\">parent.foreverIframe(");
        Iframe { budget, call }
    }

    /// One control frame as a script element. The JSON is escaped for a script context, so
    /// no payload can close the element or open a comment.
    fn script(&self, frame: &serde_json::Value, out: &mut Vec<u8>) {
        for piece in [
            self.call.as_str(),
            &script_safe_json(frame),
            ");</script>\n",
        ] {
            out.extend_from_slice(piece.as_bytes());
        }
    }
}

impl Framing for Iframe {
    fn content_type(&self) -> ContentType {
        ContentType::HTML
    }

    fn start(&mut self, opening: &Opening, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>event stream</title>\
              </head><body>\n<!--",
        );
        out.resize(out.len() + PADDING, b' ');
        out.extend_from_slice(b"-->\n");
        for frame in opening.frames() {
            self.script(&frame, out);
        }
    }

    fn event(&mut self, event: &Event, out: &mut Vec<u8>) {
        // `{"type":"event","event":<envelope>}`, from the envelope's stored script-safe form.
        for piece in [
            self.call.as_str(),
            "{\"type\":\"event\",\"event\":",
            script_safe(event),
            "});</script>\n",
        ] {
            out.extend_from_slice(piece.as_bytes());
        }
    }

    fn heartbeat(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<!-- heartbeat -->\n");
    }

    fn end(&mut self, why: End, cursor: &EventId, out: &mut Vec<u8>) {
        self.script(&end_frame(why, cursor), out);
        out.extend_from_slice(b"</body></html>\n");
    }

    fn budget(&self) -> Option<usize> {
        Some(self.budget)
    }
}

/// The stream with its own policy, which lets only this answer's scripts run.
pub struct Nonced {
    push: Push<Iframe>,
    policy: String,
}

impl<'r> Responder<'r, 'r> for Nonced {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'r> {
        let mut response = self.push.respond_to(request)?;
        response.set_header(Header::new(csp::HEADER, self.policy));
        Ok(response)
    }
}

/// Streams the channel's events as a never-ending HTML document, resuming after `since`.
#[get("/push/<_>/iframe?<since>")]
pub async fn iframe(
    since: Option<&str>,
    listener: Connection<ForeverIframe>,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Nonced, AppError> {
    let subscription = hub
        .subscribe(&listener.channel, cursor(since)?.as_ref())
        .await?;
    let nonce = csp::nonce();
    let framing = Iframe::new(config.iframe_budget, &nonce);
    Ok(Nonced {
        push: Push::new(framing, subscription, config, listener.place()),
        policy: csp::iframe_policy(&nonce),
    })
}

pub fn routes() -> Vec<Route> {
    routes![iframe]
}
