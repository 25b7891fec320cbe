//! `POST /api/experiments` and `GET /api/experiments/<id>` through Rocket's local client:
//! a real run of every technique against a child server (5 clients, 3 s, a half-second
//! interval: about 45 s), read as Server-Sent Events to its `result`, and every refusal.

use std::time::Duration;

use reverse_ajax::access::token::{ChannelClaims, Claims, Keys, expiry};
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::tokio::io::{AsyncBufReadExt, BufReader};
use serde_json::{Value, json};

use crate::SLUGS;
use crate::common::{client_with, json_error, within};

/// A run takes about 9 × 4.5 s; anything far beyond that is a hang.
const RUN_LIMIT: Duration = Duration::from_secs(150);
/// How long a kept result may take to arrive.
const PATIENCE: Duration = Duration::from_secs(5);

const SECRET: &str = "a test secret, at least thirty-two bytes long";

/// The application, whose experiments start the real binary as their child server.
async fn lab(change: impl FnOnce(Figment) -> Figment) -> Client {
    client_with(|f| change(f.merge(("experiments.binary", env!("CARGO_BIN_EXE_reverse-ajax")))))
        .await
}

/// The quick run of the issue: 5 clients, 3 s of events, polls every half second.
fn quick() -> Value {
    json!({"clients": 5, "seconds": 3, "pattern": "rate:1", "interval": 0.5})
}

async fn start<'c>(client: &'c Client, body: &str, headers: &[(&str, &str)]) -> LocalResponse<'c> {
    let mut request = client
        .post("/api/experiments")
        .header(ContentType::JSON)
        .body(body);
    for (name, value) in headers {
        request = request.header(Header::new((*name).to_owned(), (*value).to_owned()));
    }
    request.dispatch().await
}

/// One SSE message: its event name (`message` when it has none) and its data lines joined.
#[derive(Debug)]
struct Message {
    event: String,
    data: String,
}

impl Message {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }
}

/// Every message of the stream until it ends (comments skipped).
async fn messages(response: LocalResponse<'_>) -> Vec<Message> {
    let mut body = BufReader::new(response);
    let (mut found, mut event, mut data) = (Vec::new(), None, Vec::new());
    loop {
        let mut line = String::new();
        let read = body.read_line(&mut line).await.expect("a readable stream");
        let line = line.trim_end_matches(['\r', '\n']);
        if read == 0 || line.is_empty() {
            if !data.is_empty() {
                found.push(Message {
                    event: event.take().unwrap_or_else(|| "message".to_owned()),
                    data: data.join("\n"),
                });
                data.clear();
            }
            if read == 0 {
                return found;
            }
        } else if let Some(name) = line.strip_prefix("event:") {
            event = Some(name.trim_start().to_owned());
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
        }
    }
}

/// The `state` of each progress message.
fn states(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m.event == "progress")
        .map(|m| m.json()["state"].as_str().expect("a state").to_owned())
        .collect()
}

#[rocket::async_test]
async fn a_run_streams_its_progress_and_ends_with_every_techniques_row() {
    let client = lab(|f| f).await;
    let started = start(&client, &quick().to_string(), &[]).await;
    assert_eq!(started.status(), Status::Accepted);
    let location = started
        .headers()
        .get_one("Location")
        .expect("a Location")
        .to_owned();
    let answer: Value = started.into_json().await.expect("JSON");
    let id = answer["id"].as_str().expect("an id");
    assert_eq!(location, format!("/api/experiments/{id}"));

    let busy = start(&client, &quick().to_string(), &[]).await;
    let retry = busy.headers().get_one("Retry-After").map(str::to_owned);
    let message = json_error(busy, 429).await;
    assert!(
        message.contains(id),
        "the refusal names the running one: {message}"
    );
    let retry: u64 = retry.expect("a Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After: {retry}");

    let stream = client.get(&location).dispatch().await;
    assert_eq!(stream.status(), Status::Ok);
    assert_eq!(stream.content_type(), Some(ContentType::EventStream));
    assert_eq!(stream.headers().get_one("Cache-Control"), Some("no-store"));
    let all = within(RUN_LIMIT, messages(stream)).await;
    let last = all.last().expect("some messages");
    assert_eq!(last.event, "result", "{last:?}");
    assert!(
        all[..all.len() - 1].iter().all(|m| m.event == "progress"),
        "only progress before the result"
    );
    let states = states(&all);
    assert_eq!(states[0], "starting");
    for state in ["started", "finished"] {
        assert_eq!(states.iter().filter(|s| *s == state).count(), 9, "{state}");
    }
    assert!(states.iter().any(|s| s == "running"), "{states:?}");

    let rows = last.json();
    let rows = rows.as_array().expect("the JSON array of --format json");
    let slugs: Vec<&str> = rows
        .iter()
        .map(|r| r["technique"].as_str().expect("a slug"))
        .collect();
    assert_eq!(slugs, SLUGS);
    let finished: Vec<Value> = all
        .iter()
        .filter(|m| m.event == "progress" && m.json()["state"] == "finished")
        .map(|m| m.json()["row"].clone())
        .collect();
    assert_eq!(&finished, rows, "each technique's row, as it finished");
    for row in rows {
        for key in crate::KEYS {
            assert!(row.get(key).is_some(), "no {key} in {row}");
        }
        assert!(
            row["events"].as_u64().is_some_and(|n| n > 0),
            "nothing delivered: {row}"
        );
        assert!(row["server_cpu_ms"].is_u64(), "the child's CPU time: {row}");
    }

    // A late subscriber gets the whole log and the same result at once.
    let again = client.get(&location).dispatch().await;
    let replay = within(PATIENCE, messages(again)).await;
    let end = replay.last().expect("the kept result");
    assert_eq!(
        (end.event.as_str(), end.data.as_str()),
        ("result", last.data.as_str())
    );
}

#[rocket::async_test]
async fn starts_out_of_bounds_or_of_another_shape_are_400s_with_a_line_of_reason() {
    let client = lab(|f| f).await;
    for body in [
        json!({"clients": 501, "seconds": 3, "pattern": "ticker", "interval": 2}),
        json!({"clients": 5, "seconds": 121, "pattern": "ticker", "interval": 2}),
        json!({"clients": 0, "seconds": 3, "pattern": "ticker", "interval": 2}),
        json!({"clients": 5, "seconds": 3, "pattern": "ticker", "interval": 0.01}),
        json!({"clients": 5, "seconds": 3, "pattern": "quiet", "interval": 2}),
        json!({"clients": 5, "seconds": 3, "pattern": "sometimes", "interval": 2}),
        json!({"clients": 5, "seconds": 3, "pattern": "ticker", "interval": 2, "url": "x"}),
        json!({"clients": 5, "seconds": 3, "pattern": "ticker"}),
        json!([5, 3]),
    ] {
        let text = json_error(start(&client, &body.to_string(), &[]).await, 400).await;
        assert!(!text.contains("\\n"), "{body}: one line, not {text}");
    }
    let text = json_error(start(&client, "clients=5", &[]).await, 400).await;
    assert!(text.contains("JSON object"), "{text}");
    let large = " ".repeat(2048) + &quick().to_string();
    json_error(start(&client, &large, &[]).await, 413).await;
}

#[rocket::async_test]
async fn other_sites_pages_may_not_start_one() {
    let client = lab(|f| f).await;
    for headers in [
        [("Origin", "http://evil.example")],
        [("Sec-Fetch-Site", "cross-site")],
    ] {
        let text = json_error(start(&client, &quick().to_string(), &headers).await, 403).await;
        assert!(
            text.contains("origin") || text.contains("cross-site"),
            "{text}"
        );
    }
    // The site's own page passes the check (and is refused for its body, so nothing runs).
    let own = [("Origin", "http://127.0.0.1:8000")];
    json_error(start(&client, "{}", &own).await, 400).await;
}

#[rocket::async_test]
async fn an_unknown_experiment_is_a_404() {
    let client = lab(|f| f).await;
    let response = client
        .get("/api/experiments/nosuchexperiment")
        .dispatch()
        .await;
    json_error(response, 404).await;
}

#[rocket::async_test]
async fn off_loopback_only_a_token_holder_may_start_one() {
    let exposed = |f: Figment| {
        f.merge(("address", "0.0.0.0"))
            .merge(("auth.secret", SECRET))
    };
    let client = lab(exposed).await;
    json_error(start(&client, "{}", &[]).await, 401).await;
    let claims = Claims {
        exp: expiry(Duration::from_secs(3600)),
        sub: Some("operator".into()),
        channels: ChannelClaims {
            publish: Vec::new(),
            subscribe: vec!["demo".into()],
        },
    };
    let token = Keys::new(SECRET)
        .expect("a secret")
        .issue(&claims)
        .expect("a token");
    let bearer = format!("Bearer {token}");
    let with_token = [("Authorization", bearer.as_str())];
    // Past the token check: refused for its body only, so nothing runs.
    json_error(start(&client, "{}", &with_token).await, 400).await;
    let forged = [("Authorization", "Bearer not.a.token")];
    json_error(start(&client, "{}", &forged).await, 401).await;
}

#[rocket::async_test]
async fn the_experiments_can_be_turned_off() {
    let client = lab(|f| f.merge(("experiments.enabled", false))).await;
    json_error(start(&client, &quick().to_string(), &[]).await, 404).await;
}
