//! A restart of the memory hub, played by two servers: ids handed out by the first are
//! unknown to the second. A client that comes back with a cursor from before the restart is
//! told `reset` (reason `unknown_epoch`) and then receives every event the new server has
//! stored, whichever transport it uses: the only events it may miss are the old server's.

use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::common::{client, publish, within};
use crate::streaming::{PATIENCE, at, ids};
use crate::{forever_iframe, multipart_streaming, server_sent_events as sse};

/// A cursor from the server before the restart, and the new server with `count` events
/// published since (acknowledged before any client came back).
async fn restarted(count: u64) -> (String, Client, Vec<String>) {
    let before = client().await;
    let old = publish(&before, "demo", json!("before the restart")).await;
    drop(before);
    let after = client().await;
    let mut sent = Vec::new();
    for n in 0..count {
        sent.push(publish(&after, "demo", json!({ "n": n })).await);
    }
    (old, after, sent)
}

/// The JSON answer of a GET on `uri`.
async fn get_json(client: &Client, uri: String) -> Value {
    let response = within(PATIENCE, client.get(uri).dispatch()).await;
    assert_eq!(response.status().code, 200);
    let body = response.into_string().await.expect("a body");
    serde_json::from_str(body.trim_start()).expect("a JSON answer")
}

#[rocket::async_test]
async fn after_a_restart_a_stream_gets_every_event_published_before_it_came_back() {
    let (old, after, sent) = restarted(5).await;
    let start = at(&sent[0], 0);

    // SSE
    let mut stream = sse::open(&after, "", Some(&old)).await;
    let reset = sse::data_message(&mut stream).await.expect("a reset");
    assert_eq!(reset.field("event"), Some("reset"));
    assert_eq!(reset.field("id"), Some(start.as_str()));
    assert_eq!(reset.data()["reason"], json!("unknown_epoch"));
    let mut got = Vec::new();
    for _ in 0..5 {
        let event = sse::data_message(&mut stream).await.expect("an event");
        got.push(event.field("id").expect("an id").to_owned());
    }
    assert_eq!(got, sent);

    // The forever iframe
    let mut stream = forever_iframe::open(&after, &format!("?since={old}")).await;
    let reset = forever_iframe::next_frame(&mut stream)
        .await
        .expect("a reset");
    assert_eq!(
        reset,
        json!({"type": "reset", "next": start, "reason": "unknown_epoch"})
    );
    let mut got = Vec::new();
    for _ in 0..5 {
        let frame = forever_iframe::next_frame(&mut stream)
            .await
            .expect("a frame");
        got.push(frame["event"].clone());
    }
    assert_eq!(ids(&got), sent);

    // Multipart
    let mut parts = multipart_streaming::open(&after, &format!("?since={old}")).await;
    let reset = parts.frame().await.expect("a reset");
    assert_eq!(
        reset,
        json!({"type": "reset", "next": start, "reason": "unknown_epoch"})
    );
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(parts.frame().await.expect("an event"));
    }
    assert_eq!(ids(&got), sent);
}

#[rocket::async_test]
async fn after_a_restart_every_poll_gets_every_event_published_before_it_came_back() {
    let (old, after, sent) = restarted(5).await;

    let answers = [
        get_json(&after, format!("/api/channels/demo/events?since={old}")).await,
        get_json(&after, format!("/push/demo/long-poll?since={old}")).await,
    ];

    for answer in answers {
        assert_eq!(answer["reset"], json!(true), "{answer}");
        assert_eq!(answer["reset_reason"], json!("unknown_epoch"), "{answer}");
        let events = answer["events"].as_array().expect("events");
        assert_eq!(ids(events), sent, "{answer}");
        assert_eq!(answer["next"], json!(sent[4]), "{answer}");
    }
}

#[rocket::async_test]
async fn after_a_restart_with_nothing_new_the_reset_continues_from_the_empty_head() {
    let (old, after, _) = restarted(0).await;
    let mut stream = sse::open(&after, "", Some(&old)).await;

    let reset = sse::data_message(&mut stream).await.expect("a reset");
    let head = reset.field("id").expect("an id").to_owned();
    let id = publish(&after, "demo", json!("the first event since")).await;

    assert_eq!(head, at(&id, 0));
    let event = sse::data_message(&mut stream).await.expect("an event");
    assert_eq!(event.field("id"), Some(id.as_str()));
}
