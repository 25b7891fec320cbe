//! The doctor's endpoints: `POST /api/doctor/sessions` feeds a channel of its own with
//! timestamped events and says what the server saw of the request; `POST
//! /api/doctor/reports` counts well-formed verdicts in `/metrics`, refuses anything else with
//! a one-line reason, and only takes them from this site's pages and within a rate.

use std::net::SocketAddr;
use std::time::Duration;

use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::Value;

use crate::common::{client, json_error, within};
use crate::metrics::{scrape, value};

async fn report<'c>(client: &'c Client, from: SocketAddr, body: &str) -> LocalResponse<'c> {
    client
        .post("/api/doctor/reports")
        .remote(from)
        .header(ContentType::JSON)
        .body(body)
        .dispatch()
        .await
}

fn verdicts(scrape: &prometheus_parse::Scrape, transport: &str, verdict: &str) -> f64 {
    value(
        scrape,
        "reverse_ajax_doctor_verdicts_total",
        &[("transport", transport), ("verdict", verdict)],
    )
}

#[rocket::async_test]
async fn a_diagnosis_gets_a_fed_channel_and_sees_the_proxy_headers_but_no_secret() {
    let client = client().await;
    let response = client
        .post("/api/doctor/sessions")
        .header(Header::new("Via", "1.1 office-proxy"))
        .header(Header::new("X-Forwarded-For", "203.0.113.9"))
        .header(Header::new("Cookie", "session=hunter2"))
        .header(Header::new("X-Api-Key", "hunter3"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Created);
    let text = response.into_string().await.expect("a body");
    assert!(!text.contains("hunter"), "no secret is echoed: {text}");
    let body: Value = serde_json::from_str(&text).expect("JSON");
    let channel = body["channel"].as_str().expect("a channel");
    assert!(channel.starts_with("doctor-"), "{channel}");
    let headers = body["seen"]["headers"].as_array().expect("headers");
    let proxies: Vec<&str> = headers
        .iter()
        .filter(|h| h["proxy"] == true)
        .filter_map(|h| h["name"].as_str())
        .collect();
    assert_eq!(proxies, ["via", "x-forwarded-for"], "{headers:?}");
    assert_eq!(body["seen"]["withheld"], 2);

    // The feed: a long poll from the start is answered by the first stamped event.
    let answer = within(Duration::from_secs(5), async {
        let response = client
            .get(format!("/push/{channel}/long-poll"))
            .dispatch()
            .await;
        response.into_json::<Value>().await.expect("a batch")
    })
    .await;
    let event = &answer["events"][0];
    let now = chrono::Utc::now().timestamp_millis();
    let sent = event["data"]["sent_ms"].as_i64().expect("sent_ms");
    assert!((now - 5000..=now).contains(&sent), "{answer}");
    assert!(event["data"]["n"].as_u64() >= Some(1), "{answer}");
}

#[rocket::async_test]
async fn good_reports_are_counted_and_bad_ones_refused_with_400() {
    let client = client().await;
    let me: SocketAddr = "192.0.2.10:1000".parse().unwrap();
    let before = scrape(&client).await;
    assert_eq!(verdicts(&before, "websocket", "blocked"), 0.0);

    let good =
        r#"{"verdicts":{"websocket":"blocked","server-sent-events":"buffered","polling":"ok"}}"#;
    let response = report(&client, me, good).await;
    assert_eq!(response.status(), Status::Accepted);
    let body: Value = response.into_json().await.expect("JSON");
    assert_eq!(body["counted"], 3);

    for bad in [
        "not json",
        r#"{"verdicts":{}}"#,
        r#"{"verdicts":{"websocket":"fine"}}"#,
        r#"{"verdicts":{"telegraph":"ok"}}"#,
        r#"{"verdicts":{"polling":"ok"},"comment":"free text is not kept"}"#,
    ] {
        let refused = report(&client, me, bad).await;
        json_error(refused, 400).await;
    }
    let huge = format!(
        r#"{{"verdicts":{{"polling":"ok"}},"pad":"{}"}}"#,
        "x".repeat(4096)
    );
    json_error(report(&client, me, &huge).await, 413).await;

    let after = scrape(&client).await;
    assert_eq!(verdicts(&after, "websocket", "blocked"), 1.0);
    assert_eq!(verdicts(&after, "server-sent-events", "buffered"), 1.0);
    assert_eq!(verdicts(&after, "polling", "ok"), 1.0);
    assert_eq!(verdicts(&after, "polling", "cut"), 0.0);
}

#[rocket::async_test]
async fn reports_from_another_sites_page_are_refused() {
    let client = client().await;
    let body = r#"{"verdicts":{"polling":"ok"}}"#;
    for route in ["/api/doctor/reports", "/api/doctor/sessions"] {
        let response = client
            .post(route)
            .header(Header::new("Origin", "http://evil.example"))
            .header(Header::new("Host", "evil.example"))
            .header(ContentType::JSON)
            .body(body)
            .dispatch()
            .await;
        let text = json_error(response, 403).await;
        assert!(text.contains("origin"), "{route}: {text}");
    }
    let own = client
        .post("/api/doctor/reports")
        .header(Header::new("Origin", "http://127.0.0.1:8000"))
        .header(ContentType::JSON)
        .body(body)
        .dispatch()
        .await;
    assert_eq!(own.status(), Status::Accepted);
    let after = scrape(&client).await;
    assert_eq!(
        verdicts(&after, "polling", "ok"),
        1.0,
        "only the own page's"
    );
}

#[rocket::async_test]
async fn reports_are_limited_per_address() {
    let client = client().await;
    let body = r#"{"verdicts":{"piggyback":"ok"}}"#;
    let me: SocketAddr = "192.0.2.20:1000".parse().unwrap();
    let mut accepted = 0;
    let limited = loop {
        let response = report(&client, me, body).await;
        if response.status() != Status::Accepted {
            break response;
        }
        accepted += 1;
        assert!(accepted <= 10, "no limit after {accepted} reports");
    };
    assert!(limited.headers().get_one("Retry-After").is_some());
    json_error(limited, 429).await;
    let other: SocketAddr = "192.0.2.21:1000".parse().unwrap();
    assert_eq!(
        report(&client, other, body).await.status(),
        Status::Accepted
    );
}
