//! `GET /api/channels/<ch>/events?since=&callback=`: JSONP polling, its headers, the callbacks
//! it refuses and the escaping that keeps event data inside the script.

use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, encode, json_error, publish};

/// Polls `demo` as JSONP and returns the status and the body.
async fn jsonp(client: &Client, callback: &str, since: Option<&str>) -> (u16, String) {
    let since = since.map(|s| format!("&since={s}")).unwrap_or_default();
    let uri = format!(
        "/api/channels/demo/events?callback={}{since}",
        encode(callback)
    );
    let response = client.get(uri).dispatch().await;
    let status = response.status().code;
    (status, response.into_string().await.unwrap_or_default())
}

/// The JSON inside `/**/<callback>(…);`.
fn unwrap_call(body: &str, callback: &str) -> Value {
    let inner = body
        .strip_prefix(&format!("/**/{callback}("))
        .and_then(|rest| rest.strip_suffix(");"))
        .unwrap_or_else(|| panic!("not a JSONP call of {callback}: {body}"));
    serde_json::from_str(inner).expect("the argument is JSON")
}

/// Asserts that `callback` is refused with a JSON 400 that does not repeat it.
async fn assert_refused(callback: &str) {
    let client = client().await;
    let uri = format!("/api/channels/demo/events?callback={}", encode(callback));

    let response = client.get(uri).dispatch().await;

    let body = json_error(response, 400).await;
    if !callback.is_empty() {
        assert!(
            !body.contains(callback),
            "the refusal echoes {callback:?}: {body}"
        );
    }
}

#[rocket::async_test]
async fn jsonp_calls_the_callback_with_the_poll_answer() {
    // Arrange
    let client = client().await;
    let first = publish(&client, "demo", json!("one")).await;
    let second = publish(&client, "demo", json!("two")).await;

    // Act
    let (status, body) = jsonp(&client, "cb", Some(&first)).await;

    // Assert
    assert_eq!(status, 200);
    assert!(body.starts_with("/**/cb("), "{body}");
    let answer = unwrap_call(&body, "cb");
    assert_eq!(answer["events"][0]["id"], json!(second));
    assert_eq!(answer["events"][0]["data"], json!("two"));
    assert_eq!(answer["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(answer["next"], json!(second));
    assert_eq!(answer["reset"], json!(false));
}

#[rocket::async_test]
async fn jsonp_without_a_cursor_answers_the_head() {
    let client = client().await;
    let head = publish(&client, "demo", json!(1)).await;

    let (_, body) = jsonp(&client, "app.onEvents", None).await;

    assert_eq!(
        unwrap_call(&body, "app.onEvents"),
        json!({"events": [], "next": head, "reset": false})
    );
}

#[rocket::async_test]
async fn jsonp_answers_script_that_is_neither_sniffed_nor_cached() {
    let client = client().await;

    let response = client
        .get("/api/channels/demo/events?callback=cb")
        .dispatch()
        .await;

    assert_eq!(response.status().code, 200);
    let content_type = response.content_type().expect("a content type").to_string();
    assert_eq!(content_type, "text/javascript; charset=utf-8");
    assert_eq!(
        response.headers().get_one("X-Content-Type-Options"),
        Some("nosniff")
    );
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("no-store")
    );
}

#[rocket::async_test]
async fn jsonp_with_a_made_up_epoch_answers_reset_and_every_event_held() {
    let client = client().await;
    let id = publish(&client, "demo", json!(1)).await;

    let (_, body) = jsonp(&client, "cb", Some("madeup1-3")).await;

    let answer = unwrap_call(&body, "cb");
    assert_eq!(answer["reset"], json!(true));
    assert_eq!(answer["reset_reason"], json!("unknown_epoch"));
    assert_eq!(answer["events"][0]["id"], json!(id));
    assert_eq!(answer["next"], json!(id));
}

#[rocket::async_test]
async fn jsonp_with_a_malformed_cursor_is_a_400() {
    let client = client().await;

    let response = client
        .get("/api/channels/demo/events?callback=cb&since=nope")
        .dispatch()
        .await;

    json_error(response, 400).await;
}

#[rocket::async_test]
async fn jsonp_refuses_a_callback_that_runs_code() {
    assert_refused("alert(1)//").await;
}

#[rocket::async_test]
async fn jsonp_refuses_a_callback_with_a_space() {
    assert_refused("a b").await;
}

#[rocket::async_test]
async fn jsonp_refuses_a_callback_with_markup() {
    assert_refused("<script>").await;
}

#[rocket::async_test]
async fn jsonp_refuses_a_callback_of_65_characters() {
    assert_refused(&"c".repeat(65)).await;
}

#[rocket::async_test]
async fn jsonp_refuses_an_empty_callback() {
    assert_refused("").await;
}

#[rocket::async_test]
async fn jsonp_escapes_event_data_that_could_end_the_script() {
    // Arrange
    let client = client().await;
    let nasty = "</script><script>alert(1)</script> <!-- \u{2028} \u{2029} & done";
    let start = publish(&client, "demo", json!("before")).await;
    publish(&client, "demo", json!({ "text": nasty })).await;

    // Act
    let (status, body) = jsonp(&client, "cb", Some(&start)).await;

    // Assert
    assert_eq!(status, 200);
    for breaker in ["</script", "<script", "<!--", "\u{2028}", "\u{2029}"] {
        assert!(
            !body.contains(breaker),
            "the body contains {breaker:?} raw: {body}"
        );
    }
    assert_eq!(
        unwrap_call(&body, "cb")["events"][0]["data"]["text"],
        json!(nasty)
    );
}
