//! `GET /api/channels/<ch>/events?since=`: HTTP polling and its cursor rule.

use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, json_error, publish};

/// Polls `ch` with the query string `query` and returns the JSON answer.
async fn poll(client: &Client, ch: &str, query: &str) -> Value {
    let response = client
        .get(format!("/api/channels/{ch}/events{query}"))
        .dispatch()
        .await;
    assert_eq!(response.status().code, 200, "polling {ch}{query}");
    response.into_json().await.expect("a JSON answer")
}

/// The ids of a poll answer's events.
fn ids(answer: &Value) -> Vec<&str> {
    let events = answer["events"].as_array().expect("an events array");
    events
        .iter()
        .map(|e| e["id"].as_str().expect("an id"))
        .collect()
}

#[rocket::async_test]
async fn polling_without_a_cursor_answers_no_events_and_the_head() {
    // Arrange
    let client = client().await;
    publish(&client, "demo", json!(1)).await;
    let head = publish(&client, "demo", json!(2)).await;

    // Act
    let answer = poll(&client, "demo", "").await;

    // Assert
    assert_eq!(answer, json!({"events": [], "next": head, "reset": false}));
}

#[rocket::async_test]
async fn polling_a_new_channel_answers_its_start_as_next() {
    let client = client().await;

    let answer = poll(&client, "fresh", "").await;

    let next = answer["next"].as_str().expect("next");
    assert!(
        next.ends_with("-0"),
        "a new channel's head is 0, got {next}"
    );
}

#[rocket::async_test]
async fn polling_after_an_id_answers_exactly_the_later_events_in_order() {
    // Arrange
    let client = client().await;
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(publish(&client, "demo", json!({ "n": n })).await);
    }

    // Act
    let answer = poll(&client, "demo", &format!("?since={}", sent[1])).await;

    // Assert
    assert_eq!(ids(&answer), sent[2..]);
    assert_eq!(answer["next"], json!(sent[4]));
    assert_eq!(answer["reset"], json!(false));
    let event = &answer["events"][0];
    assert_eq!(event["channel"], json!("demo"));
    assert_eq!(event["data"], json!({"n": 2}));
    assert!(event["at"].as_str().expect("at").ends_with('Z'));
}

#[rocket::async_test]
async fn polling_at_the_head_answers_nothing_new() {
    let client = client().await;
    let head = publish(&client, "demo", json!(1)).await;

    let answer = poll(&client, "demo", &format!("?since={head}")).await;

    assert_eq!(answer, json!({"events": [], "next": head, "reset": false}));
}

#[rocket::async_test]
async fn polling_with_a_made_up_epoch_answers_reset_and_every_event_held() {
    // Arrange
    let client = client().await;
    let first = publish(&client, "demo", json!(1)).await;
    let head = publish(&client, "demo", json!(2)).await;

    // Act
    let answer = poll(&client, "demo", "?since=madeup1-1").await;

    // Assert: the history this server holds comes with the reset.
    assert_eq!(ids(&answer), [first.as_str(), head.as_str()]);
    assert_eq!(answer["next"], json!(head));
    assert_eq!(answer["reset"], json!(true));
    assert_eq!(answer["reset_reason"], json!("unknown_epoch"));
}

#[rocket::async_test]
async fn polling_ahead_of_the_head_answers_reset() {
    // Arrange
    let client = client().await;
    let head = publish(&client, "demo", json!(1)).await;
    let epoch = head.rsplit_once('-').expect("an id").0;

    // Act
    let answer = poll(&client, "demo", &format!("?since={epoch}-2")).await;

    // Assert
    assert_eq!(
        answer,
        json!({"events": [], "next": head, "reset": true, "reset_reason": "ahead"})
    );
}

#[rocket::async_test]
async fn polling_with_a_malformed_cursor_is_a_400() {
    let client = client().await;

    let response = client
        .get("/api/channels/demo/events?since=not%20an%20id")
        .dispatch()
        .await;

    json_error(response, 400).await;
}

#[rocket::async_test]
async fn polling_a_bad_channel_is_a_400() {
    let client = client().await;

    let response = client.get("/api/channels/a%20b/events").dispatch().await;

    json_error(response, 400).await;
}

#[rocket::async_test]
async fn polling_answers_json_that_is_never_cached() {
    let client = client().await;

    let response = client.get("/api/channels/demo/events").dispatch().await;

    assert_eq!(response.status().code, 200);
    assert!(response.content_type().expect("a content type").is_json());
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("no-store")
    );
}
