//! The forever iframe, mounted at `GET /push/<ch>/iframe?since=`.
//!
//! A hidden iframe loads an HTML document that never finishes: each event arrives as one more
//! `<script>` element that hands the event to the parent page. The document ends after a byte
//! budget, because a browser keeps every script of a page it is still loading; the parent
//! then reloads the iframe from its last id.

use rocket::http::ContentType;
use rocket::{Route, Shutdown, State};
use serde_json::json;

use super::jsonp::script_safe_json;
use super::stream::{End, Framing, Push, end_frame, reset_frame};
use super::{channel, cursor};
use crate::config::PushConfig;
use crate::error::AppError;
use crate::hub::{Event, EventId, Hub};

/// Browsers hold back the first bytes of a document before they run anything in it; this much
/// padding makes sure the first event is not stuck behind that buffer.
const PADDING: usize = 1024;

/// The HTML framing: one `<script>` per frame, calling `parent.foreverIframe(frame)`.
pub struct Iframe {
    budget: usize,
}

/// One frame as a script element. The JSON is escaped for a script context, so no payload can
/// close the element or open a comment.
fn script(frame: &serde_json::Value) -> String {
    format!(
        "<script>parent.foreverIframe({});</script>\n",
        script_safe_json(frame)
    )
}

impl Framing for Iframe {
    fn content_type(&self) -> ContentType {
        ContentType::HTML
    }

    fn start(&mut self, reset: bool, cursor: &EventId) -> String {
        let mut out = String::from(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>event stream</title>\
             </head><body>\n<!--",
        );
        out.push_str(&" ".repeat(PADDING));
        out.push_str("-->\n");
        if reset {
            out += &script(&reset_frame(cursor));
        }
        out
    }

    fn event(&mut self, event: &Event) -> String {
        script(&json!({"type": "event", "event": event}))
    }

    fn heartbeat(&mut self) -> String {
        "<!-- heartbeat -->\n".to_owned()
    }

    fn end(&mut self, why: End, cursor: &EventId) -> String {
        script(&end_frame(why, cursor)) + "</body></html>\n"
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
    hub: &State<Hub>,
    config: &State<PushConfig>,
    shutdown: Shutdown,
) -> Result<Push<Iframe>, AppError> {
    let subscription = hub
        .subscribe(&channel(ch)?, cursor(since)?.as_ref())
        .await?;
    Ok(Push {
        framing: Iframe {
            budget: config.iframe_budget,
        },
        subscription,
        heartbeat: config.heartbeat(),
        shutdown,
    })
}

pub fn routes() -> Vec<Route> {
    routes![iframe]
}
