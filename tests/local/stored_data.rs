//! Data that breaks the publish rule but is stored all the same (by an older version, or
//! written to Redis by hand), on both backends: every page and every answer that shows events
//! still renders it, as text, with no panic and no 500.

use reverse_ajax::hub::{Channel, Hub, Payload};
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;

use crate::common::{client, client_with};
use crate::redis_support::{delete_keys, redis_ready, redis_url, unique_prefix};
use crate::streaming::Stream;

/// What publish refuses and an older version stored: a number no double holds, a lone
/// surrogate escape, arrays nested one deeper than a `Value` loads.
fn broken() -> [String; 3] {
    [
        "1e999".to_owned(),
        r#"{"text":"\ud800"}"#.to_owned(),
        format!("{}{}", "[".repeat(129), "]".repeat(129)),
    ]
}

/// The technique pages, which render the channel's cursor (`data-next`) or its events.
const PAGES: [&str; 11] = [
    "event-log",
    "polling",
    "jsonp-polling",
    "long-polling",
    "script-long-polling",
    "piggyback",
    "forever-iframe",
    "multipart-streaming",
    "server-sent-events",
    "websocket",
    "compare",
];

/// Stores the broken data on `ch` through the hub itself, past the publish check, and returns
/// the cursor from before it.
async fn store_broken(client: &Client, ch: &str) -> String {
    let hub = client.rocket().state::<Hub>().expect("the hub");
    let channel = Channel::parse(ch).expect("a channel");
    let before = hub.read(&channel, None).await.expect("a read").next;
    for text in broken() {
        let data = Payload::stored(&text).expect("JSON syntax");
        hub.publish(&channel, data).await.expect("stored");
    }
    before.to_string()
}

/// Asserts a 200 whose body holds every broken text (as `shown` writes it) and returns it.
async fn shows(client: &Client, uri: &str, shown: impl Fn(&str) -> String) -> String {
    let response = client.get(uri).dispatch().await;
    assert_eq!(response.status(), Status::Ok, "{uri}");
    let body = response.into_string().await.expect("a body");
    for text in broken() {
        assert!(body.contains(&shown(&text)), "{uri} shows {text}: {body}");
    }
    body
}

/// Reads a stream until every broken text (as `shown` writes it) has appeared.
async fn streams(client: &Client, uri: &str, shown: impl Fn(&str) -> String) {
    let response = client.get(uri).dispatch().await;
    assert_eq!(response.status(), Status::Ok, "{uri}");
    let mut stream = Stream::new(response);
    let mut seen = String::new();
    for text in broken() {
        while !seen.contains(&shown(&text)) {
            seen.push_str(&stream.chunk().await);
        }
    }
}

/// Every reader of `ch`, on which the broken data follows `since`.
async fn every_reader_renders(client: &Client, ch: &str, since: &str) {
    let as_is = |text: &str| text.to_owned();
    // The pages are HTML: Tera escapes the quotes of the event log's raw text.
    let page = |text: &str| text.replace('"', "&quot;");
    shows(client, &format!("/event-log?channel={ch}"), page).await;
    for slug in PAGES {
        let response = client.get(format!("/{slug}?channel={ch}")).dispatch().await;
        assert_eq!(response.status(), Status::Ok, "/{slug}");
    }
    let events = format!("/api/channels/{ch}/events?since={since}");
    shows(client, &events, as_is).await;
    let jsonp = shows(client, &format!("{events}&callback=cb"), as_is).await;
    assert!(jsonp.starts_with("/**/cb("), "{jsonp}");
    shows(
        client,
        &format!("/push/{ch}/long-poll?since={since}"),
        as_is,
    )
    .await;
    shows(
        client,
        &format!("/push/{ch}/script?since={since}&callback=cb"),
        as_is,
    )
    .await;
    let response = client
        .post(format!("/piggyback?channel={ch}"))
        .header(ContentType::Form)
        .body(format!("name=Ada&since={since}"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok, "/piggyback");
    let body = response.into_string().await.expect("a body");
    for text in broken() {
        assert!(body.contains(&text), "piggyback shows {text}: {body}");
    }
    streams(
        client,
        &format!("/push/{ch}/sse?last_event_id={since}"),
        as_is,
    )
    .await;
    streams(
        client,
        &format!("/push/{ch}/multipart?since={since}"),
        as_is,
    )
    .await;
    streams(client, &format!("/push/{ch}/iframe?since={since}"), as_is).await;
}

#[rocket::async_test]
async fn stored_data_a_reader_cannot_load_renders_everywhere_on_the_memory_hub() {
    // Arrange
    let client = client().await;
    let since = store_broken(&client, "demo").await;

    // Act and assert
    every_reader_renders(&client, "demo", &since).await;
}

#[rocket::async_test]
async fn stored_data_a_reader_cannot_load_renders_everywhere_on_the_redis_hub() {
    if !redis_ready("stored data on the Redis hub").await {
        return;
    }
    // Arrange: the data goes through Redis and comes back through its replay.
    let prefix = unique_prefix("stored-data");
    let (url, keys) = (redis_url(), prefix.clone());
    let client = client_with(move |figment| {
        figment
            .merge(("hub.backend", "redis"))
            .merge(("hub.url", url))
            .merge(("hub.prefix", keys))
    })
    .await;
    let since = store_broken(&client, "demo-storeddata").await;

    // Act and assert
    every_reader_renders(&client, "demo-storeddata", &since).await;
    drop(client);
    delete_keys(&prefix);
}
