//! The human side of the site: the index at `/` and one page per technique at `/<slug>`.

pub mod catalog;
pub mod context;
mod event_log;

use rocket::fairing::AdHoc;
use rocket_dyn_templates::{Template, context};

use self::catalog::TECHNIQUES;
use self::context::PageContext;

/// The index: every technique of the article, the ones not built yet marked as coming.
#[get("/")]
fn index() -> Template {
    let page = PageContext::new("Reverse Ajax, live", None);
    Template::render("index", context! { page, techniques: TECHNIQUES })
}

/// A technique's page: explanation, timeline, pros and cons, the live demo and its code.
/// Unknown slugs and techniques not built yet are a 404.
#[get("/<slug>")]
fn technique(slug: &str) -> Option<Template> {
    let technique = catalog::find(slug)?;
    let page = PageContext::new(technique.title, Some(technique.slug));
    let name = format!("techniques/{}", technique.slug);
    Some(Template::render(
        name,
        context! { page, technique, channel: "demo" },
    ))
}

/// Mounts the pages.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Pages", |rocket| async {
        rocket.mount("/", routes![index, technique, event_log::event_log])
    })
}
