//! The pages' addresses: a trailing slash redirects, a wrong method is a 405, and the
//! favicon is where browsers look for it.

use rocket::http::{ContentType, Method, Status};

use crate::common::client;

#[rocket::async_test]
async fn a_page_with_a_trailing_slash_redirects_with_308_keeping_the_query() {
    let client = client().await;
    let cases = [
        ("/polling/", "/polling"),
        (
            "/jsonp-polling/?channel=demo-abcdef&x=1",
            "/jsonp-polling?channel=demo-abcdef&x=1",
        ),
        ("/server-sent-events/", "/server-sent-events"),
        ("//polling", "/polling"),
        ("/event-log/?channel=demo", "/event-log?channel=demo"),
    ];

    for (from, to) in cases {
        let response = client.get(from).dispatch().await;

        assert_eq!(response.status(), Status::PermanentRedirect, "GET {from}");
        assert_eq!(
            response.headers().get_one("Location"),
            Some(to),
            "GET {from}"
        );
    }
    let unknown = client.get("/nothing-here/").dispatch().await;
    assert_eq!(unknown.status(), Status::NotFound);
}

#[rocket::async_test]
async fn a_wrong_method_on_a_page_is_a_405_page_that_says_what_is_allowed() {
    let client = client().await;
    let cases = [
        (Method::Post, "/polling", "GET"),
        (Method::Delete, "/", "GET"),
        (Method::Put, "/event-log", "GET"),
        (Method::Put, "/piggyback", "GET, POST"),
        (Method::Post, "/favicon.ico", "GET"),
    ];

    for (method, path, allow) in cases {
        let response = client.req(method, path).dispatch().await;

        assert_eq!(
            response.status(),
            Status::MethodNotAllowed,
            "{method} {path}"
        );
        assert_eq!(
            response.headers().get_one("Allow"),
            Some(allow),
            "{method} {path}"
        );
        assert_eq!(
            response.content_type(),
            Some(ContentType::HTML),
            "{method} {path}"
        );
        let page = response.into_string().await.expect("a page");
        assert!(
            page.contains("405"),
            "{method} {path}: the page names the status"
        );
    }
    let elsewhere = client.post("/nothing-here").dispatch().await;
    assert_eq!(
        elsewhere.status(),
        Status::NotFound,
        "not a page: still 404"
    );
}

#[rocket::async_test]
async fn the_favicon_is_the_site_svg() {
    let client = client().await;

    let response = client.get("/favicon.ico").dispatch().await;

    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::SVG));
    let body = response.into_string().await.expect("a body");
    let on_disk =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/static/favicon.svg"))
            .expect("static/favicon.svg");
    assert_eq!(body, on_disk);
}
