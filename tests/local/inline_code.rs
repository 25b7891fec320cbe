//! No inline code anywhere: the policy forbids inline scripts, styles and event handlers, so
//! any that crept into a template or script would be blocked in the browser. This scan names
//! the file before a browser ever sees it.

use std::path::{Path, PathBuf};

/// Every file under `dir` (relative to the crate) whose name ends with `suffix`.
fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, suffix: &str, found: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, suffix, found);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
        suffix,
        &mut found,
    );
    assert!(!found.is_empty(), "no {suffix} files under {dir}");
    found
}

/// Whether `text` has an attribute ` on<letters>=` (an inline event handler).
fn has_handler(text: &str) -> bool {
    text.match_indices("on").any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let name: String = text[at + 2..]
            .chars()
            .take_while(char::is_ascii_lowercase)
            .collect();
        before.is_some_and(char::is_whitespace)
            && !name.is_empty()
            && text[at + 2 + name.len()..].starts_with('=')
    })
}

/// The `<script …>` start tags in `text` that have no `src`.
fn inline_scripts(text: &str) -> Vec<&str> {
    text.match_indices("<script")
        .map(|(at, _)| &text[at..text[at..].find('>').map_or(text.len(), |end| at + end + 1)])
        .filter(|tag| !tag.contains(" src="))
        .collect()
}

#[test]
fn no_template_has_inline_script_style_or_handlers() {
    for path in files("templates", ".tera") {
        let text = std::fs::read_to_string(&path).expect("a template");
        let name = path.display();
        for banned in ["style=\"", "style='", "<style", "javascript:"] {
            assert!(!text.contains(banned), "{name} contains {banned}");
        }
        assert!(!has_handler(&text), "{name} has an inline on…= handler");
        let inline = inline_scripts(&text);
        assert!(inline.is_empty(), "{name} has inline scripts: {inline:?}");
    }
}

#[test]
fn no_script_sets_inline_styles_or_runs_strings_as_code() {
    for path in files("static/js", ".js") {
        let text = std::fs::read_to_string(&path).expect("a script");
        let name = path.display();
        for banned in [
            "setAttribute('style'",
            "setAttribute(\"style\"",
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "setTimeout('",
            "setTimeout(\"",
            "setInterval('",
            "setInterval(\"",
        ] {
            assert!(!text.contains(banned), "{name} contains {banned}");
        }
    }
}

#[test]
fn the_scan_finds_what_it_looks_for() {
    assert!(has_handler("<button onclick=\"go()\">"));
    assert!(!has_handler("turn on a light; once = 1"));
    assert_eq!(
        inline_scripts("<script src=\"/a.js\"></script><script>x()</script>"),
        ["<script>"]
    );
}
