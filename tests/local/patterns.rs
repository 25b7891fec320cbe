//! `PUT|GET /api/channels/<ch>/pattern` and `POST /api/channels/<ch>/burst`: the event
//! patterns of visitors' own channels, their refusals, the cap, and how a pattern stops once
//! nobody listens.

use std::time::Duration;

use reverse_ajax::hub::Channel;
use reverse_ajax::patterns::Registry;
use rocket::figment::Figment;
use rocket::http::ContentType;
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{Value, json};

use crate::common::{client, client_with, json_error, within};
use crate::server_sent_events::data_message;
use crate::streaming::{PATIENCE, Stream, head};

/// A visitor's own channel.
const MINE: &str = "demo-abc123";

/// Fast patterns that stop soon after their last listener: the ticker ticks every 10 ms and
/// a pattern gives up 100 ms after the last listener left.
fn fast(figment: Figment) -> Figment {
    figment
        .merge(("ticker.min_ms", 10))
        .merge(("ticker.max_ms", 10))
        .merge(("patterns.idle_ms", 100))
}

async fn put_pattern<'c>(client: &'c Client, ch: &str, body: &str) -> LocalResponse<'c> {
    client
        .put(format!("/api/channels/{ch}/pattern"))
        .header(ContentType::JSON)
        .body(body)
        .dispatch()
        .await
}

/// Sets `pattern` on `ch`, checking the 200 and its body.
async fn choose(client: &Client, ch: &str, pattern: &str) {
    let response = put_pattern(client, ch, &json!({ "pattern": pattern }).to_string()).await;
    assert_eq!(response.status().code, 200, "PUT {pattern} on {ch}");
    let body: Value = response.into_json().await.expect("JSON");
    assert_eq!(body, json!({"channel": ch, "pattern": pattern}));
}

/// The pattern the server says runs on `ch`.
async fn current(client: &Client, ch: &str) -> String {
    let response = client
        .get(format!("/api/channels/{ch}/pattern"))
        .dispatch()
        .await;
    assert_eq!(response.status().code, 200, "GET the pattern of {ch}");
    let body: Value = response.into_json().await.expect("JSON");
    assert_eq!(body["channel"], json!(ch));
    body["pattern"].as_str().expect("a pattern").to_owned()
}

fn registry(client: &Client) -> &Registry {
    client.rocket().state::<Registry>().expect("the registry")
}

fn channel(name: &str) -> Channel {
    Channel::parse(name).expect("a channel")
}

#[rocket::async_test]
async fn a_pattern_is_set_read_back_and_stopped_by_quiet() {
    let client = client().await;
    assert_eq!(
        current(&client, MINE).await,
        "quiet",
        "nothing runs at first"
    );

    choose(&client, MINE, "ticker").await;
    assert_eq!(current(&client, MINE).await, "ticker");
    choose(&client, MINE, "every-10s").await;
    assert_eq!(current(&client, MINE).await, "every-10s");
    choose(&client, MINE, "quiet").await;

    assert_eq!(current(&client, MINE).await, "quiet");
    assert_eq!(registry(&client).running(), 0);
}

#[rocket::async_test]
async fn a_burst_publishes_ten_events_in_order() {
    // Arrange
    let client = client().await;
    let since = head(&client, MINE).await;

    // Act
    let response = client
        .post(format!("/api/channels/{MINE}/burst"))
        .dispatch()
        .await;

    // Assert: ten ids, and a poll finds the ten events in that order with their texts.
    assert_eq!(response.status().code, 201);
    let body: Value = response.into_json().await.expect("JSON");
    let ids: Vec<&str> = body["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|id| id.as_str().expect("an id"))
        .collect();
    assert_eq!(ids.len(), 10);
    let poll: Value = client
        .get(format!("/api/channels/{MINE}/events?since={since}"))
        .dispatch()
        .await
        .into_json()
        .await
        .expect("a poll answer");
    let events = poll["events"].as_array().expect("events");
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["id"].as_str().unwrap(), e["data"].as_str().unwrap()))
        .collect();
    let texts: Vec<String> = (1..=10).map(|n| format!("Burst {n} of 10")).collect();
    let expected: Vec<(&str, &str)> = ids
        .iter()
        .copied()
        .zip(texts.iter().map(String::as_str))
        .collect();
    assert_eq!(got, expected);
}

#[rocket::async_test]
async fn patterns_refuse_other_channels_and_unknown_names() {
    let client = client().await;
    let ticker = r#"{"pattern":"ticker"}"#;

    for ch in ["demo", "other", "demo-ABCDEF", "demo-abc"] {
        json_error(put_pattern(&client, ch, ticker).await, 400).await;
        let get = client
            .get(format!("/api/channels/{ch}/pattern"))
            .dispatch()
            .await;
        json_error(get, 400).await;
        let burst = client
            .post(format!("/api/channels/{ch}/burst"))
            .dispatch()
            .await;
        json_error(burst, 400).await;
    }
    for body in [r#"{"pattern":"fast"}"#, r#"{"pattern":1}"#, "{}", "ticker"] {
        json_error(put_pattern(&client, MINE, body).await, 400).await;
    }
    assert_eq!(current(&client, MINE).await, "quiet");
}

#[rocket::async_test]
async fn other_channels_are_refused_with_400_even_where_they_need_a_token() {
    // The shipped access rules: `other` is not public, yet the answer is the pattern rule's.
    let figment = rocket::Config::figment()
        .merge(("ticker.enabled", false))
        .merge(("log_level", "off"));
    let client = Client::tracked(reverse_ajax::rocket_from(figment))
        .await
        .expect("the application ignites");

    let response = put_pattern(&client, "other", r#"{"pattern":"ticker"}"#).await;

    json_error(response, 400).await;
}

#[rocket::async_test]
async fn a_new_pattern_over_the_cap_is_refused_with_429() {
    // Arrange: room for one pattern, taken.
    let client = client_with(|f| f.merge(("patterns.max_running", 1))).await;
    choose(&client, "demo-first1", "ticker").await;

    // Act
    let response = put_pattern(&client, "demo-second", r#"{"pattern":"ticker"}"#).await;

    // Assert: 429 with Retry-After; the running channel may still change or stop its pattern,
    // which then makes room.
    let retry = response.headers().get_one("Retry-After").map(str::to_owned);
    json_error(response, 429).await;
    assert!(retry.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
    choose(&client, "demo-first1", "every-10s").await;
    choose(&client, "demo-first1", "quiet").await;
    choose(&client, "demo-second", "ticker").await;
}

#[rocket::async_test]
async fn a_running_ticker_delivers_tick_events_to_a_poller() {
    // Arrange
    let client = client_with(fast).await;
    let since = head(&client, MINE).await;
    choose(&client, MINE, "ticker").await;

    // Act: a long poll, answered by the first tick.
    let response = client
        .get(format!("/push/{MINE}/long-poll?since={since}"))
        .dispatch()
        .await;
    let body = within(PATIENCE, response.into_string())
        .await
        .expect("a body");

    // Assert
    let batch: Value = serde_json::from_str(body.trim_start()).expect("JSON");
    assert_eq!(batch["events"][0]["data"], json!("Tick 1"));
    assert_eq!(batch["events"][0]["channel"], json!(MINE));
}

#[rocket::async_test]
async fn a_pattern_runs_while_listened_to_and_stops_after_the_last_listener_left() {
    // Arrange: a Server-Sent Events listener, then the ticker.
    let client = client_with(fast).await;
    let response = client.get(format!("/push/{MINE}/sse")).dispatch().await;
    let mut stream = Stream::new(response);
    choose(&client, MINE, "ticker").await;

    // Act: ticks for longer than the idle time (20 ticks of 10 ms, idle 100 ms), then the
    // listener leaves.
    for n in 1..=20 {
        let message = data_message(&mut stream).await.expect("a tick");
        assert_eq!(message.data()["data"], json!(format!("Tick {n}")));
    }
    assert_eq!(current(&client, MINE).await, "ticker", "still listened to");
    drop(stream);

    // Assert
    within(
        Duration::from_secs(5),
        registry(&client).stopped(&channel(MINE)),
    )
    .await;
    assert_eq!(current(&client, MINE).await, "quiet");
    assert_eq!(registry(&client).running(), 0);
}

#[rocket::async_test]
async fn a_pattern_nobody_listens_to_stops_after_the_idle_time() {
    let client = client_with(fast).await;

    choose(&client, MINE, "every-10s").await;

    within(
        Duration::from_secs(5),
        registry(&client).stopped(&channel(MINE)),
    )
    .await;
    assert_eq!(current(&client, MINE).await, "quiet");
}
