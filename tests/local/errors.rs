//! Refusals across the site: the API always answers JSON `{"error": …}` with a 4xx, pages
//! answer HTML, and nothing a client sends produces a 500.

use rocket::http::{ContentType, Method};

use crate::common::{client, json_error};

/// One request the API must refuse, and the status it must get.
struct Refused {
    method: Method,
    uri: &'static str,
    content_type: Option<ContentType>,
    body: &'static str,
    status: u16,
}

const fn refused(method: Method, uri: &'static str, body: &'static str, status: u16) -> Refused {
    Refused {
        method,
        uri,
        content_type: Some(ContentType::JSON),
        body,
        status,
    }
}

#[rocket::async_test]
async fn every_refused_api_request_answers_a_json_error_and_never_500() {
    // Arrange
    let client = client().await;
    let big: &'static str = "9".repeat(16 * 1024 + 1).leak();
    let cases = [
        refused(Method::Post, "/api/channels/a%20b/events", "1", 400),
        refused(Method::Post, "/api/channels/demo/events", "{", 400),
        refused(Method::Post, "/api/channels/demo/events", big, 413),
        Refused {
            content_type: Some(ContentType::XML),
            ..refused(Method::Post, "/api/channels/demo/events", "<a/>", 415)
        },
        Refused {
            content_type: None,
            ..refused(Method::Post, "/api/channels/demo/events", "1", 415)
        },
        refused(Method::Get, "/api/channels/demo/events?since=x", "", 400),
        refused(Method::Get, "/api/channels/%3Cb%3E/events", "", 400),
        refused(
            Method::Get,
            "/api/channels/demo/events?callback=a%28%29",
            "",
            400,
        ),
        refused(Method::Get, "/api/nope", "", 404),
        refused(Method::Delete, "/api/channels/demo/events", "", 405),
        refused(Method::Get, "/push/demo/nope", "", 404),
        refused(Method::Post, "/piggyback", "{}", 415),
    ];

    for case in cases {
        // Act
        let mut request = client.req(case.method, case.uri).body(case.body);
        if let Some(content_type) = case.content_type {
            request = request.header(content_type);
        }
        let response = request.dispatch().await;

        // Assert
        assert_ne!(response.status().code, 500, "{} {}", case.method, case.uri);
        json_error(response, case.status).await;
    }
}

#[rocket::async_test]
async fn a_wrong_method_on_an_api_address_is_a_json_405_that_says_what_is_allowed() {
    let client = client().await;
    let cases = [
        (Method::Put, "/api/channels/demo/events", "GET, POST"),
        (Method::Delete, "/api/channels/demo/events", "GET, POST"),
        (
            Method::Delete,
            "/api/channels/demo-abcdef/pattern",
            "GET, PUT",
        ),
        (Method::Get, "/api/channels/demo/burst", "POST"),
        (Method::Get, "/api/experiments", "POST"),
        (Method::Put, "/api/experiments/some-id", "GET"),
        (Method::Post, "/api/clock", "GET"),
        (Method::Post, "/push/demo/sse", "GET"),
        (Method::Delete, "/push/demo/ws", "GET"),
    ];

    for (method, path, allow) in cases {
        let response = client.req(method, path).dispatch().await;

        let header = response.headers().get_one("Allow").map(str::to_owned);
        let message = json_error(response, 405).await;
        assert_eq!(header.as_deref(), Some(allow), "{method} {path}");
        assert!(message.contains("method"), "{method} {path}: {message}");
    }
}

#[rocket::async_test]
async fn an_unknown_api_address_is_a_json_404() {
    let client = client().await;

    let response = client.get("/api/nope").dispatch().await;

    json_error(response, 404).await;
}

#[rocket::async_test]
async fn an_unknown_page_is_an_html_404() {
    let client = client().await;

    let response = client.get("/nope/deeper").dispatch().await;

    assert_eq!(response.status().code, 404);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    let page = response.into_string().await.expect("a page");
    assert!(page.contains("404"), "the page names the status");
    assert!(
        !page.contains("aria-current=\"page\""),
        "an error page is not the overview, nor any other page of the menu"
    );
}

#[rocket::async_test]
async fn an_unknown_single_segment_page_is_an_html_404() {
    let client = client().await;

    let response = client.get("/nope").dispatch().await;

    assert_eq!(response.status().code, 404);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
}
