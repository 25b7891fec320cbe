//! Panels made once per process. The highlighting starts at ignite on a thread of its own, so
//! neither the launch nor any request waits for it; until it is done, panels come escaped but
//! plain.

use std::sync::OnceLock;

use rocket::fairing::AdHoc;

use super::highlight::Highlighter;
use super::{Panel, Source, panel};

/// The panels of a fixed list of groups of files (one group per page), kept for the life of
/// the process. The groups are given by a function, so the owner of the list can hold the
/// cache in a `static`.
pub struct Cache {
    groups: fn() -> Vec<&'static [Source]>,
    highlighted: OnceLock<Vec<Vec<Panel>>>,
    plain: OnceLock<Vec<Vec<Panel>>>,
}

impl Cache {
    pub const fn new(groups: fn() -> Vec<&'static [Source]>) -> Cache {
        Cache {
            groups,
            highlighted: OnceLock::new(),
            plain: OnceLock::new(),
        }
    }

    /// The panels of group `i`, highlighted if that is done, else plain: never waits (the
    /// highlighting takes a moment in a release build, several seconds in a debug one).
    pub fn panels(&self, i: usize) -> &[Panel] {
        let all = self
            .highlighted
            .get()
            .unwrap_or_else(|| self.plain.get_or_init(|| self.build(None)));
        all.get(i).map_or(&[], Vec::as_slice)
    }

    /// Every group's panels highlighted: done once per process, waiting for it if it is under
    /// way.
    pub fn highlighted(&self) -> &[Vec<Panel>] {
        self.highlighted.get_or_init(|| {
            let started = std::time::Instant::now();
            let panels = self.build(Some(&Highlighter::new()));
            rocket::info!(
                "code panels: highlighted {} files in {:.0?}",
                panels.iter().map(Vec::len).sum::<usize>(),
                started.elapsed()
            );
            panels
        })
    }

    /// Every group's panels, highlighted or (without a highlighter) plain.
    fn build(&self, highlighter: Option<&Highlighter>) -> Vec<Vec<Panel>> {
        (self.groups)()
            .into_iter()
            .map(|files| files.iter().map(|s| panel(highlighter, s)).collect())
            .collect()
    }

    /// Starts highlighting every panel at ignite, on a thread of its own.
    pub fn stage(&'static self) -> AdHoc {
        AdHoc::on_ignite("Code panels", move |rocket| async move {
            if self.highlighted.get().is_none() {
                std::thread::spawn(|| self.highlighted());
            }
            rocket
        })
    }
}
