//! `POST /piggyback`: the form's validation and the events that ride along on its answer.

use rocket::http::ContentType;
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, encode, json_error, publish};

/// A form that passes every check.
const VALID: &[(&str, &str)] = &[
    ("name", "Ada Lovelace"),
    ("email", "ada@example.org"),
    ("seats", "2"),
    ("country", "GB"),
    ("postal_code", "SW1A 1AA"),
];

/// A form that fails every check that applies when the country is known.
const INVALID: &[(&str, &str)] = &[
    ("name", ""),
    ("email", "not an address"),
    ("seats", "11"),
    ("country", "US"),
    ("postal_code", "ABCDE"),
];

/// Posts `fields` (plus `since` when given) as an urlencoded form.
async fn register(client: &Client, fields: &[(&str, &str)], since: Option<&str>) -> Value {
    let since = since.map(|s| ("since", s));
    let body: Vec<String> = fields
        .iter()
        .chain(&since)
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let response = client
        .post("/piggyback")
        .header(ContentType::Form)
        .body(body.join("&"))
        .dispatch()
        .await;
    assert_eq!(response.status().code, 200);
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("no-store")
    );
    response.into_json().await.expect("a JSON answer")
}

/// The names of the fields the answer says are wrong.
fn error_fields(answer: &Value) -> Vec<&str> {
    let errors = answer["form"]["errors"]
        .as_object()
        .expect("an errors object");
    assert!(
        errors
            .values()
            .all(|m| m.as_str().is_some_and(|m| !m.is_empty()))
    );
    errors.keys().map(String::as_str).collect()
}

#[rocket::async_test]
async fn an_invalid_form_names_each_wrong_field() {
    let client = client().await;

    let answer = register(&client, INVALID, None).await;

    assert_eq!(answer["form"]["valid"], json!(false));
    assert_eq!(
        error_fields(&answer),
        ["email", "name", "postal_code", "seats"]
    );
    assert!(
        answer["form"].get("message").is_none(),
        "no confirmation for an invalid form"
    );
}

#[rocket::async_test]
async fn an_unknown_country_is_named_as_the_wrong_field() {
    let client = client().await;
    let fields = [&VALID[..3], &[("country", "XX"), ("postal_code", "12345")]].concat();

    let answer = register(&client, &fields, None).await;

    assert_eq!(answer["form"]["valid"], json!(false));
    assert_eq!(error_fields(&answer), ["country"]);
}

#[rocket::async_test]
async fn an_invalid_form_still_carries_the_events_after_since() {
    // Arrange
    let client = client().await;
    let since = publish(&client, "demo", json!("seen")).await;
    let new = publish(&client, "demo", json!("missed")).await;

    // Act
    let answer = register(&client, INVALID, Some(&since)).await;

    // Assert
    assert_eq!(answer["form"]["valid"], json!(false));
    assert_eq!(answer["events"][0]["id"], json!(new));
    assert_eq!(answer["events"][0]["data"], json!("missed"));
    assert_eq!(answer["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(answer["next"], json!(new));
    assert_eq!(answer["reset"], json!(false));
}

#[rocket::async_test]
async fn a_valid_form_is_confirmed_with_a_message_and_the_events() {
    // Arrange
    let client = client().await;
    let since = publish(&client, "demo", json!(1)).await;
    let second = publish(&client, "demo", json!(2)).await;
    let third = publish(&client, "demo", json!(3)).await;

    // Act
    let answer = register(&client, VALID, Some(&since)).await;

    // Assert
    assert_eq!(answer["form"]["valid"], json!(true));
    assert_eq!(answer["form"]["errors"], json!({}));
    assert!(
        answer["form"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let ids: Vec<_> = answer["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&json!(second), &json!(third)]);
    assert_eq!(answer["next"], json!(third));
}

#[rocket::async_test]
async fn piggyback_without_since_carries_no_events_and_the_head() {
    let client = client().await;
    let head = publish(&client, "demo", json!("old news")).await;

    let answer = register(&client, VALID, None).await;

    assert_eq!(answer["events"], json!([]));
    assert_eq!(answer["next"], json!(head));
    assert_eq!(answer["reset"], json!(false));
}

#[rocket::async_test]
async fn piggyback_with_a_made_up_epoch_answers_reset_and_every_event_held() {
    let client = client().await;
    let head = publish(&client, "demo", json!(1)).await;

    let answer = register(&client, VALID, Some("madeup1-1")).await;

    assert_eq!(answer["events"][0]["id"], json!(head));
    assert_eq!(
        (answer["events"].as_array().map(Vec::len), &answer["next"]),
        (Some(1), &json!(head))
    );
    assert_eq!(answer["reset"], json!(true));
    assert_eq!(answer["reset_reason"], json!("unknown_epoch"));
}

#[rocket::async_test]
async fn piggyback_with_a_malformed_since_is_a_400() {
    let client = client().await;

    let response = client
        .post("/piggyback")
        .header(ContentType::Form)
        .body("name=Ada&since=garbage")
        .dispatch()
        .await;

    json_error(response, 400).await;
}

#[rocket::async_test]
async fn piggyback_refuses_a_json_body_as_unsupported() {
    // Rocket's `Form` guard forwards any non-form body with 415, and no other route takes it.
    let client = client().await;

    let response = client
        .post("/piggyback")
        .header(ContentType::JSON)
        .body(r#"{"name":"Ada"}"#)
        .dispatch();

    json_error(response.await, 415).await;
}
