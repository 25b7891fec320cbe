//! The code panels: the project's own files, shown on the pages and highlighted once per
//! process. Finding a file's essence, highlighting it and keeping the results are each in a
//! file of their own; which files a page shows is the catalog's business.
//!
//! Each line of a panel is its own element: it carries its number for the gutter and can be
//! shown alone in the essence.

mod cache;
mod essence;
mod highlight;

use std::ops::Range;

use rocket_dyn_templates::tera;
use serde::Serialize;

pub use self::cache::Cache;
pub use self::essence::{ESSENCE_LINES, Essence};
use self::highlight::Highlighter;

/// One file shown in a page's code panel, compiled in from the real file.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub label: &'static str,
    pub path: &'static str,
    pub text: &'static str,
    pub essence: Essence,
}

/// One highlighted file, ready for the `code_panel` macro. The HTML strings are the only
/// text a template prints unescaped: they were built from escaped source.
#[derive(Debug, Serialize)]
pub struct Panel {
    pub label: &'static str,
    pub path: &'static str,
    /// An id for the panel's elements, from the path (`static-js-lib-cursor-js`).
    pub id: String,
    /// The grammar's name, for example `JavaScript`.
    pub language: String,
    /// How many lines the file has.
    pub lines: usize,
    /// The essence's first and last line, counted from 1.
    pub essence_first: usize,
    pub essence_last: usize,
    /// The essence's lines as HTML, one `<span class="line">` each.
    pub essence_html: String,
    /// The whole file as HTML, the same way.
    pub full_html: String,
}

/// One file's panel, highlighted by `highlighter` or, without one, escaped as plain text.
fn panel(highlighter: Option<&Highlighter>, source: &Source) -> Panel {
    let (language, lines) = match highlighter {
        Some(h) => h.lines(source.path, source.text),
        None => (
            "Plain Text".to_owned(),
            source.text.lines().map(tera::escape_html).collect(),
        ),
    };
    // The catalogue's tests check every essence; a broken one shows the whole file.
    let essence = source.essence.lines(source.text).unwrap_or(0..lines.len());
    let numbered = |range: Range<usize>| {
        range
            .map(|i| {
                format!(
                    "<span class=\"line\" data-n=\"{}\">{}</span>",
                    i + 1,
                    lines[i]
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Panel {
        label: source.label,
        path: source.path,
        id: source
            .path
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect(),
        language,
        lines: lines.len(),
        essence_first: essence.start + 1,
        essence_last: essence.end,
        essence_html: numbered(essence),
        full_html: numbered(0..lines.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panel_numbers_its_lines_and_holds_its_essence() {
        let text = "a\nb\nfunction f() {\n  one();\n  two();\n  three();\n}\nz\n";
        let source = Source {
            label: "Client",
            path: "static/js/x.js",
            text,
            essence: Essence {
                from: "function f",
                to: None,
            },
        };
        let panel = panel(Some(&Highlighter::new()), &source);

        assert_eq!(
            (panel.essence_first, panel.essence_last, panel.lines),
            (3, 7, 8)
        );
        assert_eq!(panel.id, "static-js-x-js");
        assert_eq!(panel.essence_html.matches("class=\"line\"").count(), 5);
        assert!(
            panel
                .essence_html
                .starts_with("<span class=\"line\" data-n=\"3\">")
        );
        assert_eq!(panel.full_html.matches("class=\"line\"").count(), 8);
        assert!(panel.full_html.contains("data-n=\"8\">z</span>"));
    }
}
