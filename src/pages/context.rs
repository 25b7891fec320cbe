//! What every page hands to `base.html.tera`: its title and the navigation.

use serde::Serialize;

use super::assets::Assets;
use super::catalog::TECHNIQUES;

#[derive(Debug, Serialize)]
pub struct NavItem {
    pub slug: &'static str,
    pub title: &'static str,
    pub family: &'static str,
}

/// The shared part of every page's context.
#[derive(Debug, Serialize)]
pub struct PageContext {
    pub title: String,
    /// The slug of the technique being shown, to highlight it in the navigation.
    pub active: Option<&'static str>,
    /// True on the index only, which the navigation then marks as the current page (an
    /// error page is neither the index nor a technique).
    pub home: bool,
    /// Where the page links the static files from: `/static/<version>` (see [`Assets`]).
    pub static_root: String,
    pub nav: Vec<NavItem>,
}

impl PageContext {
    pub fn new(title: &str, active: Option<&'static str>, assets: &Assets) -> PageContext {
        let nav = TECHNIQUES
            .iter()
            .map(|t| NavItem {
                slug: t.slug,
                title: t.title,
                family: t.family,
            })
            .collect();
        PageContext {
            title: title.to_owned(),
            active,
            home: false,
            static_root: assets.root(),
            nav,
        }
    }

    /// The index's context: the navigation marks "Overview" as the current page.
    pub fn home(title: &str, assets: &Assets) -> PageContext {
        PageContext {
            home: true,
            ..PageContext::new(title, None, assets)
        }
    }
}
