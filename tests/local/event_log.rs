//! `GET /event-log`: a channel's recent events (here `demo`'s), rendered by the server,
//! newest first.

use serde_json::json;

use crate::common::{client, publish};

#[rocket::async_test]
async fn the_event_log_lists_published_events_newest_first() {
    // Arrange
    let client = client().await;
    let mut ids = Vec::new();
    for text in ["first", "second", "third"] {
        ids.push(publish(&client, "demo", json!(text)).await);
    }

    // Act
    let response = client.get("/event-log?channel=demo").dispatch().await;

    // Assert
    assert_eq!(response.status().code, 200);
    let page = response.into_string().await.expect("a page");
    let position = |id: &str| {
        page.find(&format!("data-id=\"{id}\""))
            .unwrap_or_else(|| panic!("no row for {id}"))
    };
    assert!(position(&ids[2]) < position(&ids[1]), "third before second");
    assert!(position(&ids[1]) < position(&ids[0]), "second before first");
    for text in ["first", "second", "third"] {
        assert!(page.contains(text), "the row text {text:?} is shown");
    }
}

#[rocket::async_test]
async fn the_event_log_hands_the_page_the_cursor_after_its_rows() {
    let client = client().await;
    publish(&client, "demo", json!(1)).await;
    let head = publish(&client, "demo", json!(2)).await;

    let page = client
        .get("/event-log?channel=demo")
        .dispatch()
        .await
        .into_string()
        .await
        .expect("a page");

    assert!(
        page.contains(&format!("data-next=\"{head}\"")),
        "the list carries the cursor"
    );
}

#[rocket::async_test]
async fn the_event_log_escapes_event_text() {
    let client = client().await;
    publish(&client, "demo", json!("<img src=x onerror=alert(1)>")).await;

    let page = client
        .get("/event-log?channel=demo")
        .dispatch()
        .await
        .into_string()
        .await
        .expect("a page");

    assert!(
        !page.contains("<img src=x"),
        "event text is rendered as text"
    );
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[rocket::async_test]
async fn a_new_visitors_event_log_never_talks_about_rows_it_does_not_have() {
    let client = client().await;
    let page = |channel: &'static str| {
        let client = &client;
        async move {
            client
                .get(format!("/event-log?channel={channel}"))
                .dispatch()
                .await
                .into_string()
                .await
                .expect("a page")
        }
    };

    let empty = page("demo-neweventlog").await;
    assert!(
        empty.contains("id=\"event-log-empty\""),
        "the empty list says so"
    );
    assert!(
        !empty.contains("The rows above were written"),
        "no rows, so no talk of rows above: {empty}"
    );
    assert!(
        !empty.contains("The demo channel's recent events"),
        "the lede names no channel the list does not show"
    );

    publish(&client, "demo-neweventlog", json!("hello")).await;
    let full = page("demo-neweventlog").await;
    assert!(!full.contains("id=\"event-log-empty\""));
    assert!(full.contains("The rows above were written"));
}
