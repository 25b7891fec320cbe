//! `/metrics`: the Prometheus text parses, every family shows, and each counter moves by
//! exactly what a test did.

use std::time::Duration;

use prometheus_parse::{Scrape, Value};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::json;

use crate::common::{client, client_with, publish, within};
use crate::streaming::{Stream, head};

/// The families of the issue, by their names in the text.
const FAMILIES: &[&str] = &[
    "reverse_ajax_requests",
    "reverse_ajax_empty_answers",
    "reverse_ajax_events_delivered",
    "reverse_ajax_bytes_sent",
    "reverse_ajax_open_connections",
    "reverse_ajax_resets",
    "reverse_ajax_disconnects",
    "reverse_ajax_delivery_latency_seconds",
    "reverse_ajax_publishes",
    "reverse_ajax_channels",
    "reverse_ajax_history_bytes",
];

pub async fn scrape(client: &Client) -> Scrape {
    let response = client.get("/metrics").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    let text = response.into_string().await.expect("a body");
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text")
}

/// The value of `metric` with exactly `labels`.
pub fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == metric
                && s.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v))
        })
        .unwrap_or_else(|| panic!("no {metric} {labels:?}"));
    match sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        ref other => panic!("{metric} is {other:?}"),
    }
}

fn of(transport: &str) -> [(&'static str, &str); 1] {
    [("transport", transport)]
}

#[rocket::async_test]
async fn the_text_parses_and_shows_every_family_for_every_transport() {
    let client = client().await;
    let scrape = scrape(&client).await;
    for family in FAMILIES {
        // The classic format names a counter's family by its samples, `…_total`.
        let counter = format!("{family}_total");
        assert!(
            scrape.docs.contains_key(*family) || scrape.docs.contains_key(&counter),
            "{family} has no HELP line"
        );
    }
    for slug in ["polling", "piggyback", "server-sent-events", "websocket"] {
        assert_eq!(
            value(&scrape, "reverse_ajax_requests_total", &of(slug)),
            0.0
        );
    }
}

#[rocket::async_test]
async fn a_poll_with_no_event_counts_one_request_and_one_empty_answer() {
    let client = client().await;
    let before = scrape(&client).await;
    let poll = client.get("/api/channels/quiet/events").dispatch().await;
    assert_eq!(poll.status(), Status::Ok);
    let after = scrape(&client).await;
    for metric in [
        "reverse_ajax_requests_total",
        "reverse_ajax_empty_answers_total",
    ] {
        let moved = value(&after, metric, &of("polling")) - value(&before, metric, &of("polling"));
        assert_eq!(moved, 1.0, "{metric}");
    }
    let delivered = "reverse_ajax_events_delivered_total";
    assert_eq!(value(&after, delivered, &of("polling")), 0.0);
}

#[rocket::async_test]
async fn an_sse_stream_counts_its_events_and_is_open_until_it_ends() {
    let client = client().await;
    let since = head(&client, "counted").await;
    let response = client
        .get("/push/counted/sse")
        .header(Header::new("Last-Event-ID", since))
        .dispatch()
        .await;
    let mut stream = Stream::new(response);
    for n in 0..3 {
        publish(&client, "counted", json!(n)).await;
    }
    for _ in 0..3 {
        let id = stream.next_matching(|l| l.strip_prefix("id: ").map(str::to_owned));
        within(Duration::from_secs(5), id).await.expect("an event");
    }
    let open = scrape(&client).await;
    let sse = of("server-sent-events");
    assert_eq!(value(&open, "reverse_ajax_open_connections", &sse), 1.0);
    assert_eq!(
        value(&open, "reverse_ajax_events_delivered_total", &sse),
        3.0
    );
    assert_eq!(value(&open, "reverse_ajax_requests_total", &sse), 1.0);
    drop(stream);
    let closed = scrape(&client).await;
    assert_eq!(value(&closed, "reverse_ajax_open_connections", &sse), 0.0);
    let gone = [("transport", "server-sent-events"), ("reason", "client")];
    assert_eq!(value(&closed, "reverse_ajax_disconnects_total", &gone), 1.0);
    assert_eq!(
        value(&closed, "reverse_ajax_empty_answers_total", &sse),
        0.0
    );
    let latency = closed
        .samples
        .iter()
        .find(|s| {
            s.metric == "reverse_ajax_delivery_latency_seconds"
                && s.labels.get("transport") == Some("server-sent-events")
        })
        .map(|s| s.value.clone());
    match latency {
        Some(Value::Histogram(buckets)) => {
            let all = buckets.last().map_or(0.0, |b| b.count);
            assert_eq!(all, 3.0, "every delivery has a latency");
        }
        other => panic!("no SSE latency histogram: {other:?}"),
    }
}

#[rocket::async_test]
async fn publishes_are_counted_by_outcome() {
    let client = client().await;
    let send = |key: &'static str, body: &'static str| {
        client
            .post("/api/channels/tally/events")
            .header(ContentType::JSON)
            .header(Header::new("Idempotency-Key", key))
            .body(body)
            .dispatch()
    };
    assert_eq!(send("a", "1").await.status(), Status::Created);
    assert_eq!(send("a", "1").await.status(), Status::Ok);
    assert_eq!(send("b", "{not json").await.status(), Status::BadRequest);
    let after = scrape(&client).await;
    for (outcome, count) in [("stored", 1.0), ("duplicate", 1.0), ("refused", 1.0)] {
        let labels = [("outcome", outcome)];
        assert_eq!(
            value(&after, "reverse_ajax_publishes_total", &labels),
            count,
            "{outcome}"
        );
    }
}

#[rocket::async_test]
async fn metrics_can_be_turned_off_and_need_a_token_off_loopback() {
    let off = client_with(|f| f.merge(("metrics.enabled", false))).await;
    assert_eq!(
        off.get("/metrics").dispatch().await.status(),
        Status::NotFound
    );

    let exposed = client_with(|f| f.merge(("address", "0.0.0.0"))).await;
    let refused = exposed.get("/metrics").dispatch().await;
    assert_eq!(refused.status(), Status::Unauthorized);

    let public = |f: rocket::figment::Figment| {
        f.merge(("address", "0.0.0.0"))
            .merge(("metrics.public", true))
    };
    let open = client_with(public).await;
    assert_eq!(open.get("/metrics").dispatch().await.status(), Status::Ok);
}

/// `/metrics` as a scraper that sends `accept` gets it: the content type and the text.
async fn metrics_text(client: &Client, accept: &'static str) -> (String, String) {
    let response = client
        .get("/metrics")
        .header(Header::new("Accept", accept))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    let kind = response.content_type().expect("a content type").to_string();
    (kind, response.into_string().await.expect("a body"))
}

#[rocket::async_test]
async fn openmetrics_is_answered_only_to_a_scraper_that_asks_for_it() {
    let client = client().await;
    // What Prometheus sends when it may use either.
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                      version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (kind, text) = metrics_text(&client, prometheus).await;
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    assert!(text.ends_with("# EOF\n"), "{text}");

    for accept in [
        "text/plain;version=0.0.4",
        "*/*",
        "text/plain;q=1,application/openmetrics-text;q=0",
    ] {
        let (kind, text) = metrics_text(&client, accept).await;
        assert!(
            kind.starts_with("text/plain; version=0.0.4"),
            "{accept}: {kind}"
        );
        assert!(!text.contains("# EOF"), "{accept}: {text}");
        assert!(
            text.contains("# HELP reverse_ajax_requests_total "),
            "{accept}: {text}"
        );
    }
}

#[rocket::async_test]
async fn promtool_finds_nothing_wrong_with_the_classic_text() {
    let Some(promtool) = promtool() else {
        return;
    };
    let client = client().await;
    publish(&client, "linted", json!(1)).await;
    let (_, text) = metrics_text(&client, "text/plain;version=0.0.4").await;

    let mut check = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs");
    let mut input = check.stdin.take().expect("its stdin");
    std::io::Write::write_all(&mut input, text.as_bytes()).expect("the text sent");
    drop(input);
    let output = check.wait_with_output().expect("promtool's verdict");

    let said = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "promtool check metrics: {said}\n{text}"
    );
}

/// Debian's promtool (package `prometheus`), or `None` with a notice when it is missing and
/// `CI` is not set; with `CI` set a missing promtool fails the test.
fn promtool() -> Option<&'static str> {
    const PATH: &str = "/usr/bin/promtool";
    if std::path::Path::new(PATH).exists() {
        return Some(PATH);
    }
    assert!(
        std::env::var_os("CI").is_none_or(|ci| ci.is_empty()),
        "CI is set but promtool is missing (apt-get install prometheus)"
    );
    eprintln!("promtool is not installed (apt-get install prometheus): the lint is skipped");
    None
}
