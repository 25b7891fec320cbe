//! Highlighting. [`syntect`] parses each file with its default Sublime Text grammars (Rust,
//! JavaScript). Each token's scope stack is matched against a short list of selectors, and the
//! token becomes a `<span class="tok-…">` of one of a handful of kinds (comment, string,
//! keyword, …), so the colours come from `static/css/code.css` in light and dark alike. The
//! spans are flat and never cross a line, so each line is its own element. Every piece of
//! source text goes through Tera's HTML escape, so a `</script>` in a file is shown, never run.

use std::str::FromStr;

use rocket_dyn_templates::tera;
use syntect::highlighting::ScopeSelectors;
use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};

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

/// The grammars and the selectors of each token kind, loaded once.
pub(super) struct Highlighter {
    syntaxes: SyntaxSet,
    kinds: Vec<(&'static str, ScopeSelectors)>,
}

impl Highlighter {
    pub(super) fn new() -> Highlighter {
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
    pub(super) fn lines(&self, path: &str, text: &str) -> (String, Vec<String>) {
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
}
