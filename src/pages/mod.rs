//! The human side of the site: the index at `/` and one page per technique at `/<slug>`.

pub mod assets;
pub mod catalog;
pub mod code;
pub mod context;
mod errors;
mod event_log;
mod templates;
pub mod visitor;

use rocket::State;
use rocket::fairing::AdHoc;
use rocket::http::ContentType;
use rocket::http::uri::Origin;
use rocket::response::Redirect;
use rocket_dyn_templates::{Template, context};

pub use self::templates::templates;

use crate::error::AppError;
use crate::hub::{Channel, Hub};

use self::assets::Assets;
use self::catalog::TECHNIQUES;
use self::context::PageContext;
use self::visitor::Visitor;

/// A page, or a redirect to the page's own address.
#[derive(Debug, Responder)]
pub enum Page {
    Shown(Html),
    Moved(Redirect),
}

/// A rendered page, sent as HTML. A template compiled into the binary has no file name for
/// the templating fairing to take the content type from, so every page names it itself.
pub type Html = (ContentType, Template);

/// Renders the page template `name` with `context`.
pub fn render(
    name: impl Into<std::borrow::Cow<'static, str>>,
    context: impl serde::Serialize,
) -> Html {
    (ContentType::HTML, Template::render(name, context))
}

/// The index: every technique of the article, grouped by family.
#[get("/")]
fn index(assets: &State<Assets>) -> Html {
    let page = PageContext::home("Reverse Ajax, live", assets);
    render("index", context! { page, techniques: TECHNIQUES })
}

/// A 308 to `/<slug>` (the query kept) when the page was asked for at another spelling of
/// its path, such as `/polling/`: Rocket's router ignores empty segments, so `/<slug>` also
/// matches `/polling/` and `//polling`, but a page served there would resolve its relative
/// links against the wrong directory. The target is built from the catalogued slug, never
/// from the request, so it cannot point to another site.
fn canonical(uri: &Origin<'_>, slug: &str) -> Option<Redirect> {
    let path = format!("/{slug}");
    if uri.path().as_str() == path {
        return None;
    }
    Some(Redirect::permanent(match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    }))
}

/// A technique's page: explanation, timeline, pros and cons, the live demo and its code,
/// for the visitor's channel ([`Visitor`]). The page carries the channel's head as its first
/// cursor, so the demo starts with every event published after the page was rendered.
/// Unknown slugs are a 404.
#[get("/<slug>")]
async fn technique(
    slug: &str,
    uri: &Origin<'_>,
    visitor: Visitor,
    hub: &State<Hub>,
    assets: &State<Assets>,
) -> Result<Option<Page>, AppError> {
    let Some(technique) = catalog::find(slug) else {
        return Ok(None);
    };
    if let Some(moved) = canonical(uri, technique.slug) {
        return Ok(Some(Page::Moved(moved)));
    }
    let next = hub.read(&visitor.channel, None).await?.next.to_string();
    let page = PageContext::new(technique.title, Some(technique.slug), assets);
    let name = format!("techniques/{}", technique.slug);
    let channel = visitor.channel.as_str();
    Ok(Some(Page::Shown(render(
        name,
        context! { page, technique, panels: technique.panels(), channel, next },
    ))))
}

/// The site's icon, for browsers that ask for `/favicon.ico` before reading the page's
/// `<link rel="icon">`: the SVG at `static/favicon.svg`, as compiled in.
#[get("/favicon.ico")]
fn favicon() -> Option<(ContentType, &'static [u8])> {
    let icon = crate::embedded::find(crate::embedded::STATIC, "favicon.svg")?;
    Some((ContentType::SVG, icon.bytes))
}

/// Everyone's channel, fed by the ticker.
pub const DEMO: &str = "demo";

/// [`DEMO`] as a channel.
pub fn demo_channel() -> Channel {
    Channel::parse(DEMO).unwrap_or_else(|_| unreachable!("`demo` is a valid channel name"))
}

/// Mounts the pages and the catcher of everything outside `/api` and `/push`.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Pages", |rocket| async {
        rocket
            .attach(catalog::stage())
            .attach(assets::stage())
            .mount(
                "/",
                routes![index, technique, favicon, event_log::event_log],
            )
            .register("/", errors::catchers())
    })
}
