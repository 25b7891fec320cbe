//! The human pages: the index, one page per built technique with its real client code, and
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

/// Checks that `/<slug>` shows the technique's title, loads its script and shows the script's
/// real source (its longest line, as escaped by the template).
async fn assert_technique_page(slug: &str) {
    let technique = TECHNIQUES
        .iter()
        .find(|t| t.slug == slug)
        .expect("a catalogued slug");
    let script = format!("static/js/techniques/{slug}.js");
    let source = on_disk(&script);
    let line = source
        .lines()
        .map(str::trim)
        .max_by_key(|l| l.len())
        .expect("a line of code");

    let page = html_page(&format!("/{slug}")).await;

    assert!(
        page.contains(&html_escaped(technique.title)),
        "{slug}: the title is shown"
    );
    assert!(
        page.contains(&format!("js/techniques/{slug}.js")),
        "{slug}: loads its script"
    );
    assert!(
        page.contains(&html_escaped(line)),
        "{slug}: shows its client code: {line}"
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
async fn every_built_technique_page_shows_its_title_and_its_client_code() {
    for technique in TECHNIQUES.iter().filter(|t| t.built) {
        assert_technique_page(technique.slug).await;
    }
}

#[rocket::async_test]
async fn a_technique_not_built_yet_is_a_404_page() {
    let client = client().await;

    let response = client.get("/compare").dispatch().await;

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
