//! A held connection admitted with a token ends when the token stops counting (`exp` plus
//! the leeway), even when nothing else happens on it: SSE with `event: end`, the iframe and
//! multipart with their `end` frame, both long polls with their answer; each says
//! `token_expired` and, on the streams, where to resume. A client that comes back with a fresh
//! token and that cursor loses nothing.
//!
//! The tokens here expire about three seconds from now: their `exp` lies in the past, within
//! the leeway. The tests wait on the streams themselves, under a timeout.

use std::time::{Duration, Instant};

use reverse_ajax::access::token::{ChannelClaims, Claims, Keys, LEEWAY, expiry};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::within;
use crate::metrics::{scrape, value};
use crate::server_sent_events::{Message, message};
use crate::streaming::Stream;
use crate::{forever_iframe, multipart_streaming};

const SECRET: &str = "a test secret, at least thirty-two bytes long";

/// A channel only token holders may use.
const ROOM: &str = "private-room";

/// How long a test may wait for a token to run out (it has at most 3 s left).
const EXPIRY: Duration = Duration::from_secs(6);

/// The app with a secret and a long-poll cap far beyond any token here.
async fn app() -> Client {
    let figment = rocket::Config::figment()
        .merge(("ticker.enabled", false))
        .merge(("log_level", "off"))
        .merge(("auth.secret", SECRET))
        .merge(("push.long_poll_max_ms", 25_000))
        .merge(("push.probe_ms", 100));
    Client::tracked(reverse_ajax::rocket_from(figment))
        .await
        .expect("the application ignites")
}

/// A token for `ROOM` that stops counting `seconds` from now (give or take the second its
/// `exp` is rounded to).
fn token(seconds: u64) -> String {
    let claims = Claims {
        exp: (expiry(Duration::ZERO) + seconds).saturating_sub(LEEWAY + 1),
        sub: Some("expiry".into()),
        channels: ChannelClaims {
            publish: vec![ROOM.into()],
            subscribe: vec![ROOM.into()],
        },
    };
    Keys::new(SECRET)
        .expect("a usable secret")
        .issue(&claims)
        .expect("a signed token")
}

/// A token that lasts the hour.
fn lasting() -> String {
    token(3600)
}

/// Publishes `data` on `ROOM` with a lasting token; its id.
async fn publish(client: &Client, data: Value) -> String {
    let response = client
        .post(format!("/api/channels/{ROOM}/events"))
        .header(ContentType::JSON)
        .header(Header::new(
            "Authorization",
            format!("Bearer {}", lasting()),
        ))
        .body(data.to_string())
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Created);
    let answer: Value = response.into_json().await.expect("JSON");
    answer["id"].as_str().expect("an id").to_owned()
}

/// Opens `path` (which carries its own query) with `token`.
async fn open<'c>(client: &'c Client, path: &str, token: &str) -> Stream<'c> {
    let joiner = if path.contains('?') { '&' } else { '?' };
    let response = client
        .get(format!("{path}{joiner}token={token}"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok, "{path}");
    Stream::new(response)
}

/// The SSE messages up to the end of the stream, after the token ran out.
async fn sse_to_the_end(stream: &mut Stream<'_>) -> Vec<Message> {
    within(EXPIRY, async {
        let mut all = Vec::new();
        while let Some(message) = message(stream).await {
            all.push(message);
        }
        all
    })
    .await
}

#[rocket::async_test]
async fn sse_ends_with_an_end_event_when_its_token_expires() {
    // Arrange: a stream whose token has about three seconds left, and one event on it.
    let client = app().await;
    let started = Instant::now();
    let mut stream = open(&client, &format!("/push/{ROOM}/sse"), &token(3)).await;
    let id = publish(&client, json!("before the end")).await;

    // Act: nothing more happens until the stream ends.
    let messages = sse_to_the_end(&mut stream).await;

    // Assert: the event, then the end, then nothing: it ended on its own.
    let last = messages.last().expect("messages");
    assert_eq!(last.field("event"), Some("end"), "{messages:?}");
    assert_eq!(last.data(), json!({"reason": "token_expired", "next": id}));
    assert!(messages.iter().any(|m| m.field("id") == Some(id.as_str())));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "not before the expiry"
    );
    let scrape = scrape(&client).await;
    let labels = [
        ("transport", "server-sent-events"),
        ("reason", "token_expired"),
    ];
    assert_eq!(
        value(&scrape, "reverse_ajax_disconnects_total", &labels),
        1.0
    );
}

#[rocket::async_test]
async fn the_forever_iframe_ends_with_an_end_frame_when_its_token_expires() {
    let client = app().await;
    let mut stream = open(&client, &format!("/push/{ROOM}/iframe"), &token(3)).await;
    let id = publish(&client, json!("before the end")).await;

    let frames: Vec<Value> = within(EXPIRY, stream.rest())
        .await
        .iter()
        .filter_map(|line| forever_iframe::frame(line))
        .collect();

    let end = frames.last().expect("frames");
    assert_eq!(
        end,
        &json!({"type": "end", "reason": "token_expired", "next": id})
    );
    assert_eq!(frames[frames.len() - 2]["event"]["id"], json!(id));
    let scrape = scrape(&client).await;
    let labels = [("transport", "forever-iframe"), ("reason", "token_expired")];
    assert_eq!(
        value(&scrape, "reverse_ajax_disconnects_total", &labels),
        1.0
    );
}

#[rocket::async_test]
async fn a_multipart_stream_ends_with_an_end_part_when_its_token_expires() {
    let client = app().await;
    let response = client
        .get(format!("/push/{ROOM}/multipart?token={}", token(3)))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    let mut parts = multipart_streaming::Parts::of(response);
    let id = publish(&client, json!("before the end")).await;

    let mut all = Vec::new();
    while let Some(part) = within(EXPIRY, parts.part()).await {
        all.push(part);
    }
    assert!(parts.stream.rest().await.is_empty(), "the body ends there");

    assert_eq!(all[0]["type"], json!("hello"));
    assert_eq!(all[1]["id"], json!(id));
    assert_eq!(
        all.last().expect("parts"),
        &json!({"type": "end", "reason": "token_expired", "next": id})
    );
    let scrape = scrape(&client).await;
    let labels = [
        ("transport", "multipart-streaming"),
        ("reason", "token_expired"),
    ];
    assert_eq!(
        value(&scrape, "reverse_ajax_disconnects_total", &labels),
        1.0
    );
}

#[rocket::async_test]
async fn held_long_polls_answer_when_their_token_expires_not_at_their_cap() {
    // Arrange: a cap of 25 s, tokens with about three seconds left.
    let client = app().await;
    let since = publish(&client, json!("already read")).await;
    let started = Instant::now();

    // Act
    let (xhr_path, script_path) = (
        format!("/push/{ROOM}/long-poll?since={since}"),
        format!("/push/{ROOM}/script?callback=cb&since={since}"),
    );
    let mut xhr = open(&client, &xhr_path, &token(3)).await;
    let mut script = open(&client, &script_path, &token(3)).await;
    let (xhr, script) = within(EXPIRY, async {
        rocket::tokio::join!(xhr.rest(), script.rest())
    })
    .await;

    // Assert: both answered an empty batch from the same cursor, long before the cap.
    assert!(started.elapsed() < Duration::from_secs(10));
    let xhr: Value = serde_json::from_str(xhr.concat().trim()).expect("JSON");
    assert_eq!(xhr, json!({"events": [], "next": since, "reset": false}));
    let script = script.concat();
    let script = script.trim();
    assert!(script.starts_with("/**/cb("), "{script}");
    let call: Value = serde_json::from_str(&script["/**/cb(".len()..script.len() - 2])
        .expect("the JSONP argument");
    assert_eq!(call, xhr);
    let scrape = scrape(&client).await;
    for transport in ["long-polling", "script-long-polling"] {
        let labels = [("transport", transport), ("reason", "token_expired")];
        assert_eq!(
            value(&scrape, "reverse_ajax_disconnects_total", &labels),
            1.0
        );
    }
}

#[rocket::async_test]
async fn a_client_that_comes_back_with_a_fresh_token_and_next_loses_nothing() {
    // Arrange: a stream that reads two events, then its token runs out; more events are
    // published while it is away.
    let client = app().await;
    let mut first = open(&client, &format!("/push/{ROOM}/sse"), &token(3)).await;
    let mut sent = vec![
        publish(&client, json!(1)).await,
        publish(&client, json!(2)).await,
    ];
    let end = sse_to_the_end(&mut first).await;
    let next = end.last().expect("an end").data()["next"]
        .as_str()
        .expect("next")
        .to_owned();
    for n in 3..=5 {
        sent.push(publish(&client, json!(n)).await);
    }

    // Act: back with a fresh token, resuming from `next`.
    let path = format!("/push/{ROOM}/sse?last_event_id={next}");
    let mut again = open(&client, &path, &lasting()).await;
    let mut got: Vec<String> = end
        .iter()
        .filter(|m| m.field("event").is_none())
        .filter_map(|m| m.field("id").map(str::to_owned))
        .collect();
    while got.len() < sent.len() {
        let message = message(&mut again).await.expect("a message");
        if message.field("event").is_none()
            && let Some(id) = message.field("id")
        {
            got.push(id.to_owned());
        }
    }

    // Assert: every event exactly once, in order.
    assert_eq!(next, sent[1]);
    assert_eq!(got, sent);
}
