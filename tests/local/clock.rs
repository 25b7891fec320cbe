//! `GET /api/clock`: the server's time, for pages that correct latency for a clock offset.

use serde_json::Value;

use crate::common::client;

#[rocket::async_test]
async fn the_clock_answers_the_server_time_in_milliseconds_never_cached() {
    let client = client().await;
    let before = chrono::Utc::now().timestamp_millis();

    let response = client.get("/api/clock").dispatch().await;

    let after = chrono::Utc::now().timestamp_millis();
    assert_eq!(response.status().code, 200);
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("no-store")
    );
    let body: Value = response.into_json().await.expect("JSON");
    let now = body["now_ms"].as_i64().expect("now_ms, an integer");
    assert!(
        (before..=after).contains(&now),
        "{before} <= {now} <= {after}"
    );
}
