//! `POST /api/channels/<ch>/events`: what becomes an event, and every way to be refused.

use rocket::http::ContentType;
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, client_with, json_error, publish};

/// Everything on `ch`, read back through the polling API from the channel's start.
async fn stored(client: &Client, ch: &str) -> Vec<Value> {
    let head: Value = client
        .get(format!("/api/channels/{ch}/events"))
        .dispatch()
        .await
        .into_json()
        .await
        .expect("a poll answer");
    let epoch = head["next"]
        .as_str()
        .expect("next")
        .rsplit_once('-')
        .expect("an id")
        .0;
    let poll: Value = client
        .get(format!("/api/channels/{ch}/events?since={epoch}-0"))
        .dispatch()
        .await
        .into_json()
        .await
        .expect("a poll answer");
    poll["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["data"].clone())
        .collect()
}

/// Posts `body` with `content_type` (if any) to channel `demo`.
async fn post(client: &Client, content_type: Option<ContentType>, body: Vec<u8>) -> u16 {
    let mut request = client.post("/api/channels/demo/events").body(body);
    if let Some(content_type) = content_type {
        request = request.header(content_type);
    }
    request.dispatch().await.status().code
}

#[rocket::async_test]
async fn publish_stores_json_objects_numbers_and_strings() {
    // Arrange
    let client = client().await;
    let values = [
        json!({"text": "hello", "n": [1, 2]}),
        json!(42.5),
        json!("a string"),
    ];

    // Act
    let mut ids = Vec::new();
    for value in &values {
        ids.push(publish(&client, "demo", value.clone()).await);
    }

    // Assert
    assert_eq!(stored(&client, "demo").await, values);
    let seqs: Vec<_> = ids
        .iter()
        .map(|id| id.rsplit_once('-').expect("an id").1)
        .collect();
    assert_eq!(seqs, ["1", "2", "3"]);
}

#[rocket::async_test]
async fn publish_answers_201_with_the_new_id() {
    // Arrange
    let client = client().await;

    // Act
    let response = client
        .post("/api/channels/news/events")
        .header(ContentType::JSON)
        .body(r#"{"x":1}"#)
        .dispatch()
        .await;

    // Assert
    assert_eq!(response.status().code, 201);
    assert!(response.content_type().expect("a content type").is_json());
    let body: Value = response.into_json().await.expect("JSON");
    let object = body.as_object().expect("an object");
    assert_eq!(object.len(), 1, "the answer is just the id: {body}");
    assert!(body["id"].as_str().expect("an id").ends_with("-1"));
}

#[rocket::async_test]
async fn publish_stores_text_plain_as_a_string() {
    // Arrange
    let client = client().await;

    // Act
    let status = post(
        &client,
        Some(ContentType::Plain),
        "plain <text> {not json}".into(),
    )
    .await;

    // Assert
    assert_eq!(status, 201);
    assert_eq!(
        stored(&client, "demo").await,
        [json!("plain <text> {not json}")]
    );
}

#[rocket::async_test]
async fn publish_refuses_a_channel_with_a_space() {
    let client = client().await;

    let response = client
        .post("/api/channels/a%20b/events")
        .header(ContentType::JSON)
        .body("1");

    json_error(response.dispatch().await, 400).await;
}

#[rocket::async_test]
async fn publish_refuses_a_channel_of_65_characters() {
    // Arrange
    let client = client().await;
    let long = "c".repeat(65);

    // Act
    let response = client
        .post(format!("/api/channels/{long}/events"))
        .header(ContentType::JSON)
        .body("1");

    // Assert
    json_error(response.dispatch().await, 400).await;
    publish(&client, &long[..64], json!(1)).await; // 64 characters are fine (asserts 201)
}

#[rocket::async_test]
async fn publish_refuses_a_channel_with_markup_without_echoing_it() {
    let client = client().await;

    let response = client
        .post("/api/channels/%3Cscript%3E/events")
        .header(ContentType::JSON)
        .body("1");

    let body = json_error(response.dispatch().await, 400).await;
    assert!(!body.contains("<script>"));
}

#[rocket::async_test]
async fn publish_accepts_a_body_of_exactly_16_kib() {
    // Arrange: a JSON string of exactly 16 384 bytes, quotes included.
    let client = client().await;
    let body = format!("\"{}\"", "x".repeat(16 * 1024 - 2));

    // Act
    let status = post(&client, Some(ContentType::JSON), body.into_bytes()).await;

    // Assert
    assert_eq!(status, 201);
}

#[rocket::async_test]
async fn publish_refuses_a_body_one_byte_over_16_kib() {
    let client = client().await;
    let body = format!("\"{}\"", "x".repeat(16 * 1024 - 1));

    let response = client
        .post("/api/channels/demo/events")
        .header(ContentType::JSON)
        .body(body);

    json_error(response.dispatch().await, 413).await;
    assert!(
        stored(&client, "demo").await.is_empty(),
        "nothing was stored"
    );
}

#[rocket::async_test]
async fn publish_follows_a_configured_body_limit() {
    // Arrange
    let client = client_with(|figment| figment.merge(("publish.max_body", 8))).await;

    // Act
    let fits = post(&client, Some(ContentType::Plain), b"12345678".to_vec()).await;
    let too_big = post(&client, Some(ContentType::Plain), b"123456789".to_vec()).await;

    // Assert
    assert_eq!((fits, too_big), (201, 413));
}

#[rocket::async_test]
async fn publish_refuses_malformed_json() {
    let client = client().await;

    let response = client
        .post("/api/channels/demo/events")
        .header(ContentType::JSON)
        .body(r#"{"a":"#);

    json_error(response.dispatch().await, 400).await;
}

#[rocket::async_test]
async fn publish_refuses_json_a_reader_cannot_load_and_names_the_rule() {
    // Arrange: the three bodies that once made the event log answer 500 for everyone.
    let client = client().await;
    let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
    let cases = [
        ("1e999", "every number must fit a finite double"),
        (r#""\ud800""#, "no lone surrogate escape"),
        (deep.as_str(), "arrays and objects nest at most 100 deep"),
    ];

    for (body, rule) in cases {
        // Act
        let response = client
            .post("/api/channels/demo/events")
            .header(ContentType::JSON)
            .body(body)
            .dispatch()
            .await;

        // Assert
        let text = json_error(response, 400).await;
        assert!(text.contains(rule), "{body}: {text}");
        assert!(!text.contains('\n'), "one line: {text}");
    }
    assert!(stored(&client, "demo").await.is_empty(), "nothing stored");
    let page = client.get("/event-log?channel=demo").dispatch().await;
    assert_eq!(page.status().code, 200);
}

#[rocket::async_test]
async fn publish_refuses_xml_as_unsupported() {
    let client = client().await;

    let response = client
        .post("/api/channels/demo/events")
        .header(ContentType::XML)
        .body("<a/>");

    json_error(response.dispatch().await, 415).await;
}

#[rocket::async_test]
async fn publish_refuses_a_body_without_a_content_type() {
    let client = client().await;

    let response = client.post("/api/channels/demo/events").body("1");

    json_error(response.dispatch().await, 415).await;
    assert!(
        stored(&client, "demo").await.is_empty(),
        "nothing was stored"
    );
}

/// Posts `{"n":n}` to `demo` with `Idempotency-Key: key`; the status and the JSON answer.
async fn post_keyed(client: &Client, key: &str, n: u32) -> (u16, Value) {
    let response = client
        .post("/api/channels/demo/events")
        .header(ContentType::JSON)
        .header(rocket::http::Header::new("Idempotency-Key", key.to_owned()))
        .body(json!({ "n": n }).to_string())
        .dispatch()
        .await;
    let status = response.status().code;
    (status, response.into_json().await.expect("a JSON answer"))
}

#[rocket::async_test]
async fn a_publish_repeated_with_its_key_answers_200_with_the_first_id_and_stores_nothing() {
    // Arrange
    let client = client().await;

    // Act
    let first = post_keyed(&client, "pay-2026-12-01#7", 1).await;
    let again = post_keyed(&client, "pay-2026-12-01#7", 2).await;

    // Assert
    assert_eq!(first.0, 201);
    assert_eq!(
        first.1.get("duplicate"),
        None,
        "a first use is not a duplicate"
    );
    assert_eq!(
        again,
        (200, json!({"id": first.1["id"], "duplicate": true}))
    );
    assert_eq!(stored(&client, "demo").await, [json!({"n": 1})]);
}

#[rocket::async_test]
async fn a_malformed_idempotency_key_is_a_400_that_does_not_echo_it() {
    let client = client().await;
    let long = "k".repeat(65);
    for bad in ["with space", "caf\u{e9}", "tab\there", long.as_str()] {
        let response = client
            .post("/api/channels/demo/events")
            .header(ContentType::JSON)
            .header(rocket::http::Header::new("Idempotency-Key", bad.to_owned()))
            .body("1")
            .dispatch()
            .await;
        let text = json_error(response, 400).await;
        assert!(!text.contains(bad), "the refusal repeats {bad:?}: {text}");
    }
    assert!(
        stored(&client, "demo").await.is_empty(),
        "nothing was stored"
    );
}

#[rocket::async_test]
async fn a_zero_idempotency_ttl_stops_the_launch() {
    let figment = rocket::Config::figment()
        .merge(("ticker.enabled", false))
        .merge(("log_level", "off"))
        .merge(("publish.idempotency_ttl_ms", 0));
    let ignited = reverse_ajax::rocket_from(figment).ignite().await;
    let Err(error) = ignited else {
        panic!("a key that lives 0 s is refused");
    };
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
}
