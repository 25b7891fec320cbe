//! The human side of the site: the index at `/` and one page per technique at `/<slug>`.

pub mod catalog;
pub mod code;
pub mod context;
mod errors;
mod event_log;

use rocket::State;
use rocket::fairing::AdHoc;
use rocket_dyn_templates::{Template, context};

use crate::error::AppError;
use crate::hub::{Channel, Hub};

use self::catalog::TECHNIQUES;
use self::context::PageContext;

/// The index: every technique of the article, the ones not built yet marked as coming.
#[get("/")]
fn index() -> Template {
    let page = PageContext::new("Reverse Ajax, live", None);
    Template::render("index", context! { page, techniques: TECHNIQUES })
}

/// A technique's page: explanation, timeline, pros and cons, the live demo and its code.
/// The page carries the demo channel's head as its first cursor, so the demo starts with
/// every event published after the page was rendered. Unknown slugs and techniques not built
/// yet are a 404.
#[get("/<slug>")]
async fn technique(slug: &str, hub: &State<Hub>) -> Result<Option<Template>, AppError> {
    let Some(technique) = catalog::find(slug) else {
        return Ok(None);
    };
    let next = hub.read(&demo_channel(), None).await?.next.to_string();
    let page = PageContext::new(technique.title, Some(technique.slug));
    let name = format!("techniques/{}", technique.slug);
    Ok(Some(Template::render(
        name,
        context! { page, technique, panels: technique.panels(), channel: DEMO, next },
    )))
}

/// The channel every demo reads.
pub const DEMO: &str = "demo";

/// [`DEMO`] as a channel.
pub fn demo_channel() -> Channel {
    Channel::parse(DEMO).unwrap_or_else(|_| unreachable!("`demo` is a valid channel name"))
}

/// Mounts the pages and the catcher of everything outside `/api` and `/push`.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Pages", |rocket| async {
        rocket
            .attach(code::stage())
            .mount("/", routes![index, technique, event_log::event_log])
            .register("/", errors::catchers())
    })
}
