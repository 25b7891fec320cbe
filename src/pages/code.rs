//! The code panels: the project's own files, highlighted once per process.
//!
//! [`syntect`] parses each file with its default Sublime Text grammars (Rust, JavaScript). Each
//! token's scope stack is matched against a short list of selectors, and the token becomes a
//! `<span class="tok-…">` of one of a handful of kinds (comment, string, keyword, …), so the
//! colours come from `static/css/code.css` in light and dark alike. The spans are flat and
//! never cross a line, so each line is its own element: it carries its number for the gutter
//! and can be shown alone in the essence. Every piece of source text goes through Tera's HTML
//! escape, so a `</script>` in a file is shown, never run.
//!
//! Each file names its *essence*, the lines a reader should see first, by an anchor: a piece
//! of text on its first line. The essence is the block that starts there (see [`Essence`]),
//! or runs on to the end of the block a second anchor names.

use std::ops::Range;
use std::str::FromStr;
use std::sync::OnceLock;

use rocket::fairing::AdHoc;
use rocket_dyn_templates::tera;
use serde::Serialize;
use syntect::highlighting::ScopeSelectors;
use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};

use super::catalog::{TECHNIQUES, Technique};

/// How long an essence may be: long enough to say something, short enough to read at once.
pub const ESSENCE_LINES: std::ops::RangeInclusive<usize> = 5..=25;

/// One file shown in a page's code panel, compiled in from the real file.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub label: &'static str,
    pub path: &'static str,
    pub text: &'static str,
    pub essence: Essence,
}

/// Where a file's essence is: the block that starts on the first line containing `from`,
/// or, with `to`, everything from there to the end of the block that starts on the first line
/// (from that one on) containing `to`.
///
/// A block is its first line, any comment or attribute lines right after it at the same
/// indentation, everything indented deeper, and the lines back at its indentation that start
/// with a closing bracket (`) -> T {`, `} else {`), through the first that holds nothing but
/// closing brackets (`}`, `});`; a `)]` ends a multi-line attribute instead). So a doc comment's block is the item it documents, a
/// function's is the whole function and a statement's is that statement. Rustfmt and the
/// scripts' own style keep to this layout, so no parser is needed.
#[derive(Debug, Clone, Copy)]
pub struct Essence {
    pub from: &'static str,
    pub to: Option<&'static str>,
}

impl Essence {
    /// The essence's lines in `text`, as a 0-based range, or why it cannot be found.
    pub fn lines(&self, text: &str) -> Result<Range<usize>, String> {
        let lines: Vec<&str> = text.lines().collect();
        let find = |anchor: &str, after: usize| {
            lines
                .iter()
                .skip(after)
                .position(|l| l.contains(anchor))
                .map(|i| i + after)
                .ok_or_else(|| format!("no line contains the anchor {anchor:?}"))
        };
        let start = find(self.from, 0)?;
        let last = match self.to {
            Some(to) => find(to, start)?,
            None => start,
        };
        Ok(start..block_end(&lines, last))
    }
}

/// The end (exclusive) of the block that starts at line `start`: see [`Essence`].
fn block_end(lines: &[&str], start: usize) -> usize {
    const CLOSERS: &[char] = &['}', ')', ']', ';', ','];
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lead_in = |t: &str| ["//", "/*", "*", "#["].iter().any(|p| t.starts_with(p));
    let base = indent(lines[start]);
    let mut last = start;
    let mut after_lead_in = lead_in(lines[start].trim());
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if indent(line) < base {
            break;
        }
        if indent(line) > base {
            last = i;
            after_lead_in = false;
            continue;
        }
        if !text.starts_with(CLOSERS) && !after_lead_in {
            break;
        }
        last = i;
        // `)]` closes a multi-line attribute, which leads in to what follows.
        if text.chars().all(|c| CLOSERS.contains(&c)) && !text.ends_with(']') {
            break;
        }
        after_lead_in = lead_in(text) || text.ends_with(']');
    }
    last + 1
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

/// The panels of a technique's page. Never waits: until the highlighting started at ignite
/// is done (a moment in a release build, several seconds in a debug one), the panels come
/// escaped but plain.
pub fn panels(technique: &Technique) -> &'static [Panel] {
    static PLAIN: OnceLock<Vec<Vec<Panel>>> = OnceLock::new();
    let all = HIGHLIGHTED
        .get()
        .unwrap_or_else(|| PLAIN.get_or_init(|| build(None)));
    TECHNIQUES
        .iter()
        .position(|t| t.slug == technique.slug)
        .and_then(|i| all.get(i))
        .map_or(&[], Vec::as_slice)
}

static HIGHLIGHTED: OnceLock<Vec<Vec<Panel>>> = OnceLock::new();

/// Every technique's panels highlighted, in catalogue order: done once per process, waiting
/// for it if it is under way.
pub fn highlighted() -> &'static [Vec<Panel>] {
    HIGHLIGHTED.get_or_init(|| {
        let started = std::time::Instant::now();
        let panels = build(Some(&Highlighter::new()));
        rocket::info!(
            "code panels: highlighted {} files in {:.0?}",
            panels.iter().map(Vec::len).sum::<usize>(),
            started.elapsed()
        );
        panels
    })
}

/// Every technique's panels, highlighted or (without a highlighter) plain.
fn build(highlighter: Option<&Highlighter>) -> Vec<Vec<Panel>> {
    TECHNIQUES
        .iter()
        .map(|t| t.sources.iter().map(|s| panel(highlighter, s)).collect())
        .collect()
}

/// Starts highlighting every panel at ignite, on a thread of its own, so neither the launch
/// nor any request waits for it.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Code panels", |rocket| async {
        if HIGHLIGHTED.get().is_none() {
            std::thread::spawn(highlighted);
        }
        rocket
    })
}

/// The token kinds the stylesheet colours, each with the scopes it covers. When several
/// match a token, the most specific selector wins, as in a colour theme.
const KINDS: &[(&str, &str)] = &[
    ("comment", "comment"),
    (
        "string",
        "string, constant.character, punctuation.definition.string",
    ),
    (
        "constant",
        "constant.numeric, constant.language, constant.other, support.constant",
    ),
    (
        "keyword",
        "keyword, storage.type, storage.modifier, variable.language",
    ),
    (
        "function",
        "entity.name.function, support.function, variable.function, meta.function-call.identifier",
    ),
    (
        "type",
        "entity.name.type, entity.name.struct, entity.name.enum, entity.name.trait, \
         entity.name.class, support.type, support.class, storage.type.rust",
    ),
    (
        "macro",
        "meta.annotation, meta.attribute, support.macro, entity.name.macro",
    ),
    ("operator", "keyword.operator"),
];

struct Highlighter {
    syntaxes: SyntaxSet,
    kinds: Vec<(&'static str, ScopeSelectors)>,
}

impl Highlighter {
    fn new() -> Highlighter {
        let kinds = KINDS
            .iter()
            .map(|(kind, selectors)| {
                let parsed = ScopeSelectors::from_str(selectors)
                    .unwrap_or_else(|e| panic!("the selectors of {kind} parse: {e:?}"));
                (*kind, parsed)
            })
            .collect();
        Highlighter {
            syntaxes: SyntaxSet::load_defaults_newlines(),
            kinds,
        }
    }

    /// The kind of a token inside these scopes, if it has one the stylesheet colours.
    fn kind(&self, stack: &ScopeStack) -> Option<&'static str> {
        self.kinds
            .iter()
            .filter_map(|(kind, selectors)| Some((selectors.does_match(stack.as_slice())?, *kind)))
            .max_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal))
            .map(|(_, kind)| kind)
    }

    /// Each line of `text` as HTML: escaped text in flat `<span class="tok-…">`s.
    fn lines(&self, path: &str, text: &str) -> (String, Vec<String>) {
        let extension = path.rsplit('.').next().unwrap_or_default();
        let syntax = self
            .syntaxes
            .find_syntax_by_extension(extension)
            .unwrap_or_else(|| self.syntaxes.find_syntax_plain_text());
        let mut state = ParseState::new(syntax);
        let mut stack = ScopeStack::new();
        let mut out = Vec::new();
        for line in text.lines() {
            let with_newline = format!("{line}\n");
            let mut html = Line::default();
            match state.parse_line(&with_newline, &self.syntaxes) {
                Ok(ops) => {
                    let mut at = 0;
                    for (to, op) in ops {
                        let to = to.min(line.len());
                        html.push(self.kind(&stack), &line[at.min(to)..to]);
                        at = at.max(to);
                        if stack.apply(&op).is_err() {
                            stack = ScopeStack::new();
                        }
                    }
                    html.push(self.kind(&stack), &line[at.min(line.len())..]);
                }
                // A grammar that fails on a line leaves the rest of the file plain.
                Err(_) => {
                    state = ParseState::new(self.syntaxes.find_syntax_plain_text());
                    stack = ScopeStack::new();
                    html.push(None, line);
                }
            }
            out.push(html.finish());
        }
        (syntax.name.clone(), out)
    }
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

/// One line of HTML being built: adjacent text of the same kind shares a span.
#[derive(Default)]
struct Line {
    html: String,
    open: Option<&'static str>,
}

impl Line {
    fn push(&mut self, kind: Option<&'static str>, text: &str) {
        if text.is_empty() {
            return;
        }
        if kind != self.open {
            if self.open.is_some() {
                self.html.push_str("</span>");
            }
            if let Some(kind) = kind {
                self.html.push_str("<span class=\"tok-");
                self.html.push_str(kind);
                self.html.push_str("\">");
            }
            self.open = kind;
        }
        self.html.push_str(&tera::escape_html(text));
    }

    fn finish(mut self) -> String {
        if self.open.is_some() {
            self.html.push_str("</span>");
        }
        self.html
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn essence(from: &'static str, to: Option<&'static str>, text: &str) -> Range<usize> {
        Essence { from, to }
            .lines(text)
            .expect("the anchor is there")
    }

    #[test]
    fn an_essence_is_the_block_its_anchor_opens() {
        let text = "use a;\n\n/// Docs.\n#[get(\"/\")]\npub fn f(\n    x: u8,\n) -> u8 {\n    x\n}\n\nfn g() {}\n";
        assert_eq!(essence("/// Docs", None, text), 2..9);
        assert_eq!(essence("fn f", None, text), 4..9);
        assert_eq!(essence("use a", Some("fn g"), text), 0..11);
        let js = "function a() {\n  if (x) {\n    y();\n  }\n  return 1;\n}\nfunction b() {}\n";
        assert_eq!(essence("if (x)", None, js), 1..4);
        assert_eq!(essence("function a", None, js), 0..6);
        assert_eq!(
            essence("return", None, js),
            4..5,
            "a statement ends with its block"
        );
        assert_eq!(essence("y();", None, js), 2..3);
        assert_eq!(essence("if (x)", Some("return"), js), 1..5);
        assert!(
            Essence {
                from: "nowhere",
                to: None
            }
            .lines(js)
            .is_err()
        );
        assert!(
            Essence {
                from: "function a",
                to: Some("nowhere")
            }
            .lines(js)
            .is_err()
        );
    }

    #[test]
    fn every_essence_is_found_and_short() {
        let mut wrong = Vec::new();
        for technique in TECHNIQUES {
            for source in technique.sources {
                let at = format!("{}: {}", technique.slug, source.path);
                match source.essence.lines(source.text) {
                    Err(e) => wrong.push(format!("{at}: {e}")),
                    Ok(lines) if !ESSENCE_LINES.contains(&lines.len()) => wrong.push(format!(
                        "{at}: the essence from {:?} is {} lines, not {ESSENCE_LINES:?}",
                        source.essence.from,
                        lines.len()
                    )),
                    Ok(_) => {}
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn code_is_highlighted_line_by_line_and_stays_inert() {
        let highlighter = Highlighter::new();
        let text = "// a </script><img src=x onerror=alert(1)>\nconst s = \"</script>\";\n/* one\n   two */ let n = 42;\n";
        let (language, lines) = highlighter.lines("x.js", text);

        assert_eq!(language, "JavaScript");
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].starts_with("<span class=\"tok-comment\">"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("<span class=\"tok-keyword\">const</span>"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains("<span class=\"tok-string\">"),
            "{}",
            lines[1]
        );
        assert!(
            lines[3].contains("<span class=\"tok-constant\">42</span>"),
            "{}",
            lines[3]
        );
        for line in &lines {
            assert!(
                !line.contains("</script>") && !line.contains("<img"),
                "{line}"
            );
            assert_eq!(
                line.matches("<span").count(),
                line.matches("</span>").count(),
                "spans close on their line: {line}"
            );
        }
        assert!(
            lines[0].contains("&lt;&#x2F;script&gt;&lt;img"),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn rust_is_highlighted_too() {
        let (language, lines) = Highlighter::new().lines("a.rs", "pub fn f() -> u8 { 1 }\n");
        assert_eq!(language, "Rust");
        assert!(
            lines[0].contains("<span class=\"tok-keyword\">pub</span>"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("tok-function"), "{}", lines[0]);
    }

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
