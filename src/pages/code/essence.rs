//! A file's *essence*: the lines a reader should see first, named by an anchor, a piece of
//! text on its first line. The essence is the block that starts there, or runs on to the end
//! of the block a second anchor names.

use std::ops::Range;

/// How long an essence may be: long enough to say something, short enough to read at once.
pub const ESSENCE_LINES: std::ops::RangeInclusive<usize> = 5..=25;

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
}
