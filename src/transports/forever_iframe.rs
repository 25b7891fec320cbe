//! The forever iframe, mounted at `GET /push/<ch>/iframe?since=`.
//!
//! A hidden iframe loads an HTML document that never finishes: each event arrives as one more
//! `<script>` element that hands the event to the parent page. The document ends after a byte
//! budget, because a browser keeps every script of a page it is still loading; the parent
//! then reloads the iframe from its last id.

use super::pump::End;
use super::stream::{Framing, Push, end_frame, reset_frame};
use crate::access::Listener;
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Event, EventId, Hub};
use crate::wire::jsonp::{script_safe, script_safe_json};
use crate::wire::{channel, cursor};
use rocket::http::ContentType;
use rocket::{Route, State};

/// Browsers hold back the first bytes of a document before they run anything in it; this much
/// padding makes sure the first event is not stuck behind that buffer.
const PADDING: usize = 1024;

/// The HTML framing: one `<script>` per frame, calling `parent.foreverIframe(frame)`.
pub struct Iframe {
    budget: usize,
}

/// One control frame as a script element. The JSON is escaped for a script context, so no
/// payload can close the element or open a comment.
fn script(frame: &serde_json::Value, out: &mut Vec<u8>) {
    let text = format!(
        "<script>parent.foreverIframe({});</script>\n",
        script_safe_json(frame)
    );
    out.extend_from_slice(text.as_bytes());
}

impl Framing for Iframe {
    fn content_type(&self) -> ContentType {
        ContentType::HTML
    }

    fn start(&mut self, reset: bool, cursor: &EventId, out: &mut Vec<u8>) {
        out.extend_from_slice(
            b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>event stream</title>\
              </head><body>\n<!--",
        );
        out.resize(out.len() + PADDING, b' ');
        out.extend_from_slice(b"-->\n");
        if reset {
            script(&reset_frame(cursor), out);
        }
    }

    fn event(&mut self, event: &Event, out: &mut Vec<u8>) {
        // `{"type":"event","event":<envelope>}`, from the envelope's stored script-safe form.
        for piece in [
            "<script>parent.foreverIframe({\"type\":\"event\",\"event\":",
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
        script(&end_frame(why, cursor), out);
        out.extend_from_slice(b"</body></html>\n");
    }

    fn budget(&self) -> Option<usize> {
        Some(self.budget)
    }
}

/// Streams the channel's events as a never-ending HTML document, resuming after `since`.
#[get("/push/<ch>/iframe?<since>")]
pub async fn iframe(
    ch: &str,
    since: Option<&str>,
    listener: Listener,
    hub: &State<Hub>,
    config: &State<PushConfig>,
) -> Result<Push<Iframe>, AppError> {
    let subscription = hub
        .subscribe(&channel(ch)?, cursor(since)?.as_ref())
        .await?;
    let framing = Iframe {
        budget: config.iframe_budget,
    };
    Ok(Push::new(framing, subscription, config, listener.slot))
}

pub fn routes() -> Vec<Route> {
    routes![iframe]
}
