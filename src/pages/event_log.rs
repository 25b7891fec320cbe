//! The event log page, mounted at `GET /event-log`.
//!
//! The server renders the recent events of the visitor's channel into the page (newest
//! first), and hands the page the cursor to keep polling from, so nothing falls between the
//! two.

use rocket::State;
use rocket::http::uri::Origin;
use rocket_dyn_templates::context;
use serde::Serialize;

use super::assets::Assets;
use super::context::PageContext;
use super::visitor::Visitor;
use super::{Page, canonical, catalog};
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

/// Renders the page for the visitor's channel with the newest events first and their ids.
#[get("/event-log")]
pub async fn event_log(
    uri: &Origin<'_>,
    visitor: Visitor,
    hub: &State<Hub>,
    assets: &State<Assets>,
) -> Result<Page, AppError> {
    let technique =
        catalog::find("event-log").ok_or_else(|| AppError::NotFound("no page".into()))?;
    if let Some(moved) = canonical(uri, technique.slug) {
        return Ok(Page::Moved(moved));
    }
    let batch = hub.recent(&visitor.channel, SHOWN).await?;
    let rows: Vec<Row> = batch
        .events
        .iter()
        .rev()
        .map(|e| Row {
            id: e.id.to_string(),
            at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            text: match e.data() {
                Some(serde_json::Value::String(s)) => s,
                _ => e.data_json().to_owned(),
            },
        })
        .collect();
    let page = PageContext::new(technique.title, Some(technique.slug), assets);
    let (channel, next) = (visitor.channel.as_str(), batch.next.to_string());
    // A tool, not a technique: its demo has no shape of its own.
    let shape: Option<crate::wire::Shape> = None;
    Ok(Page::Shown(super::render(
        "techniques/event-log",
        context! {
            page, technique, panels: technique.panels(), channel, events: rows, next, shape,
            demo: super::DEMO,
        },
    )))
}
