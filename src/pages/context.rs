//! What every page hands to `base.html.tera`: its title and the navigation.

use serde::Serialize;

use super::catalog::TECHNIQUES;

#[derive(Debug, Serialize)]
pub struct NavItem {
    pub slug: &'static str,
    pub title: &'static str,
    pub family: &'static str,
    pub built: bool,
}

/// The shared part of every page's context.
#[derive(Debug, Serialize)]
pub struct PageContext {
    pub title: String,
    /// The slug of the technique being shown, to highlight it in the navigation.
    pub active: Option<&'static str>,
    pub nav: Vec<NavItem>,
}

impl PageContext {
    pub fn new(title: &str, active: Option<&'static str>) -> PageContext {
        let nav = TECHNIQUES
            .iter()
            .map(|t| NavItem {
                slug: t.slug,
                title: t.title,
                family: t.family,
                built: t.built,
            })
            .collect();
        PageContext {
            title: title.to_owned(),
            active,
            nav,
        }
    }
}
