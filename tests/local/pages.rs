//! The human pages: the index, one page per technique with its real client code, and
//! the static files they load.

use reverse_ajax::pages::catalog::TECHNIQUES;
use rocket::http::ContentType;

use crate::common::client;

/// The file at `path` (relative to the crate) as it is on disk now.
fn on_disk(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

/// What Tera's autoescape makes of `text` in an HTML template.
fn html_escaped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#x27;".to_owned(),
            '/' => "&#x2F;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// Fetches `path` and returns its body, checking it is a 200 HTML page.
async fn html_page(path: &str) -> String {
    let client = client().await;
    let response = client.get(path).dispatch().await;
    assert_eq!(response.status().code, 200, "GET {path}");
    assert_eq!(
        response.content_type(),
        Some(ContentType::HTML),
        "GET {path}"
    );
    response.into_string().await.expect("a body")
}

/// The text of some HTML: everything outside tags. Highlighted code holds no raw `<` (the
/// server escapes it), so this gives back the escaped source.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The HTML between the first `from` after `at` and the next `to`.
fn between<'p>(page: &'p str, at: &str, from: &str, to: &str) -> &'p str {
    let start = page.find(at).unwrap_or_else(|| panic!("the page has {at}"));
    let start = start + page[start..].find(from).expect("the start") + from.len();
    let end = start + page[start..].find(to).expect("the end");
    &page[start..end]
}

/// The code panel of the file at `path` on `page`: (its essence, its whole file), as HTML.
fn panel<'p>(page: &'p str, path: &str) -> (&'p str, &'p str) {
    let id: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let at = format!("<figure class=\"code-panel\" id=\"code-{id}\">");
    let essence = between(
        page,
        &at,
        "<pre class=\"code-lines code-essence\"><code>",
        "</code>",
    );
    let full = between(
        page,
        &at,
        &format!("<code id=\"code-{id}-full\">"),
        "</code>",
    );
    (essence, full)
}

/// Waits for the highlighting that the app starts at ignite (pages before it show plain code).
async fn highlighted() {
    rocket::tokio::task::spawn_blocking(reverse_ajax::pages::catalog::highlighted)
        .await
        .expect("highlighting finishes");
}

/// Checks that `/<slug>` shows the technique's title, loads its script and shows the script's
/// real source, whole and escaped, in its Client panel.
async fn assert_technique_page(slug: &str) {
    let technique = TECHNIQUES
        .iter()
        .find(|t| t.slug == slug)
        .expect("a catalogued slug");
    let script = format!("static/js/techniques/{slug}.js");
    let source = on_disk(&script);

    let page = html_page(&format!("/{slug}")).await;

    assert!(
        page.contains(&html_escaped(technique.title)),
        "{slug}: the title is shown"
    );
    assert!(
        page.contains(&format!("js/techniques/{slug}.js")),
        "{slug}: loads its script"
    );
    let (_, full) = panel(&page, &script);
    let shown = text_of(full);
    let want: Vec<String> = source.lines().map(html_escaped).collect();
    assert_eq!(
        shown,
        want.join("\n"),
        "{slug}: shows its whole client code"
    );
}

#[rocket::async_test]
async fn the_index_lists_every_technique_of_the_article() {
    let page = html_page("/").await;

    for technique in TECHNIQUES {
        assert!(
            page.contains(&html_escaped(technique.title)),
            "{} is listed",
            technique.slug
        );
    }
}

#[rocket::async_test]
async fn the_polling_page_shows_its_title_and_its_client_code() {
    assert_technique_page("polling").await;
}

#[rocket::async_test]
async fn the_jsonp_polling_page_shows_its_title_and_its_client_code() {
    assert_technique_page("jsonp-polling").await;
}

#[rocket::async_test]
async fn the_piggyback_page_shows_its_title_and_its_client_code() {
    assert_technique_page("piggyback").await;
}

#[rocket::async_test]
async fn the_event_log_page_shows_its_title_and_its_client_code() {
    assert_technique_page("event-log").await;
}

#[rocket::async_test]
async fn every_technique_page_shows_its_title_and_its_client_code() {
    for technique in TECHNIQUES {
        assert_technique_page(technique.slug).await;
    }
}

#[rocket::async_test]
async fn an_unknown_page_is_a_404_page() {
    let client = client().await;

    let response = client.get("/no-such-technique").dispatch().await;

    assert_eq!(response.status().code, 404);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
}

#[rocket::async_test]
async fn client_scripts_are_served_as_they_are_on_disk() {
    let client = client().await;

    let response = client
        .get("/static/js/techniques/polling.js")
        .dispatch()
        .await;

    assert_eq!(response.status().code, 200);
    assert_eq!(response.content_type(), Some(ContentType::JavaScript));
    let body = response.into_string().await.expect("a body");
    assert_eq!(body, on_disk("static/js/techniques/polling.js"));
}

#[rocket::async_test]
async fn code_panels_are_highlighted_numbered_and_open_on_their_essence() {
    highlighted().await;
    let page = html_page("/polling").await;
    let (essence, full) = panel(&page, "src/transports/polling.rs");
    let source = on_disk("src/transports/polling.rs");

    assert!(
        full.contains("<span class=\"tok-keyword\">pub</span>"),
        "{full}"
    );
    assert!(full.contains("<span class=\"tok-comment\">"), "{full}");
    assert_eq!(
        full.matches("<span class=\"line\" data-n=\"").count(),
        source.lines().count(),
        "one numbered line per source line"
    );
    let lines = essence.matches("<span class=\"line\" data-n=\"").count();
    assert!(
        (5..=25).contains(&lines),
        "the essence is short: {lines} lines"
    );
    assert!(
        text_of(essence).contains("#[get(&quot;&#x2F;api&#x2F;channels"),
        "the essence is the route: {essence}"
    );
    assert!(
        page.contains("<details class=\"code-full\">"),
        "the whole file one click away"
    );
    assert!(
        page.contains("<button type=\"button\" class=\"code-copy\" data-copy=\"code-src-transports-polling-rs-full\""),
        "a Copy button for the whole file"
    );
}

#[rocket::async_test]
async fn a_script_end_tag_in_shown_code_stays_escaped() {
    highlighted().await;
    // The forever iframe's server writes `</script>` into its stream, so its source has it.
    let page = html_page("/forever-iframe").await;
    let (_, full) = panel(&page, "src/transports/forever_iframe.rs");

    assert!(
        text_of(full).contains("&lt;&#x2F;script&gt;"),
        "shown as text"
    );
    assert!(!full.contains("</script>"));
    assert_eq!(
        page.matches("</script>").count(),
        page.matches("<script").count(),
        "every script end tag on the page closes one of the page's own scripts"
    );
}
