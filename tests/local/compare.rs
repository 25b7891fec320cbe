//! `/compare`, the lab: the page's hooks, its Content-Security-Policy, and the cross-origin
//! reads it relies on to spread its held requests over the server's loopback names.

use reverse_ajax::wire::Technique;
use rocket::http::{Header, Status};

use crate::common::client;

#[rocket::async_test]
async fn the_lab_has_a_block_with_every_metric_for_each_technique() {
    let client = client().await;

    let response = client
        .get("/compare?channel=demo-comparetest")
        .dispatch()
        .await;

    assert_eq!(response.status(), Status::Ok);
    let html = response.into_string().await.expect("a page");
    for slug in Technique::ALL.map(Technique::slug) {
        let start = html
            .find(&format!("data-technique=\"{slug}\" data-kind"))
            .unwrap_or_else(|| panic!("no block for {slug}"));
        let block = &html[start..];
        let block = &block[..block.find("</section>").expect("the block ends")];
        for metric in ["events", "requests", "empty", "bytes", "p50", "p95"] {
            assert!(
                block.contains(&format!("data-metric=\"{metric}\"")),
                "{slug} has no {metric}"
            );
        }
        assert!(
            block.contains(&format!("href=\"/{slug}\"")),
            "{slug} links its page"
        );
    }
    assert!(html.contains("data-action=\"burst\""));
    assert!(html.contains("data-channel=\"demo-comparetest\""));
    assert!(html.contains("/js/techniques/compare.js\""));
    assert!(html.contains("/vendor/uplot/uPlot.min.css\""));
}

#[rocket::async_test]
async fn the_index_links_the_lab() {
    let client = client().await;

    let html = client
        .get("/")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();

    assert!(
        html.contains("href=\"/compare\""),
        "the index links /compare"
    );
}

#[rocket::async_test]
async fn only_the_lab_may_load_from_the_servers_other_loopback_names() {
    let client = client().await;
    let port = client.rocket().config().port;
    let sibling = format!("http://localhost:{port}");

    let lab = client.get("/compare").dispatch().await;
    let policy = lab
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap()
        .to_owned();
    let polling = client.get("/polling").dispatch().await;
    let plain = polling
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap();

    for directive in ["script-src", "connect-src"] {
        let part = policy
            .split(';')
            .find(|d| d.trim().starts_with(directive))
            .unwrap();
        assert!(part.contains(&sibling), "{directive} on /compare: {policy}");
    }
    assert!(
        !plain.contains("localhost"),
        "other pages keep 'self' only: {plain}"
    );
}

#[rocket::async_test]
async fn reads_answer_the_sites_own_origins_across_names_and_no_one_else() {
    let client = client().await;
    let port = client.rocket().config().port;
    let sibling = format!("http://localhost:{port}");

    for path in [
        "/api/channels/demo-comparetest/events",
        "/push/demo-comparetest/sse",
    ] {
        let own = client
            .get(path)
            .header(Header::new("Origin", sibling.clone()))
            .dispatch()
            .await;
        assert_eq!(own.status(), Status::Ok, "{path}");
        assert_eq!(
            own.headers().get_one("Access-Control-Allow-Origin"),
            Some(sibling.as_str()),
            "{path}"
        );
        assert_eq!(
            own.headers().get_one("Timing-Allow-Origin"),
            Some(sibling.as_str()),
            "{path}"
        );
        assert_eq!(own.headers().get_one("Vary"), Some("Origin"), "{path}");

        let other = client
            .get(path)
            .header(Header::new("Origin", "http://evil.example"))
            .dispatch()
            .await;
        assert_eq!(other.headers().get_one("Access-Control-Allow-Origin"), None);
        assert_eq!(other.headers().get_one("Timing-Allow-Origin"), None);
    }
}

#[rocket::async_test]
async fn writes_and_pages_never_answer_other_origins() {
    let client = client().await;
    let port = client.rocket().config().port;
    let sibling = format!("http://localhost:{port}");

    let publish = client
        .post("/api/channels/demo-comparetest/events")
        .header(Header::new("Origin", sibling.clone()))
        .body("hello")
        .dispatch()
        .await;
    let page = client
        .get("/polling")
        .header(Header::new("Origin", sibling))
        .dispatch()
        .await;

    assert_eq!(
        publish.headers().get_one("Access-Control-Allow-Origin"),
        None
    );
    assert_eq!(page.headers().get_one("Access-Control-Allow-Origin"), None);
}
