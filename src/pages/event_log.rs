//! The event log page, mounted at `GET /event-log`.
//!
//! The server renders the demo channel's recent events into the page (newest first), and
//! hands the page the cursor to keep polling from, so nothing falls between the two.

use rocket::State;
use rocket_dyn_templates::{Template, context};
use serde::Serialize;

use super::context::PageContext;
use super::{DEMO, catalog, demo_channel};
use crate::error::AppError;
use crate::hub::Hub;

/// How many events the first render shows.
const SHOWN: usize = 50;

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    at: String,
    text: String,
}

/// Renders the page with the newest events first and their ids.
#[get("/event-log")]
pub async fn event_log(hub: &State<Hub>) -> Result<Template, AppError> {
    let technique =
        catalog::find("event-log").ok_or_else(|| AppError::NotFound("no page".into()))?;
    let batch = hub.recent(&demo_channel(), SHOWN).await?;
    let rows: Vec<Row> = batch
        .events
        .iter()
        .rev()
        .map(|e| Row {
            id: e.id.to_string(),
            at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            text: match e.data() {
                serde_json::Value::String(s) => s,
                _ => e.data_json().to_owned(),
            },
        })
        .collect();
    let page = PageContext::new(technique.title, Some(technique.slug));
    Ok(Template::render(
        "techniques/event-log",
        context! { page, technique, panels: technique.panels(), channel: DEMO, events: rows, next: batch.next.to_string() },
    ))
}
