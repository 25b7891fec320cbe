//! The visitor's channel of the technique pages and the event log: `?channel=`, else the
//! `ra_channel` cookie, else a fresh `demo-…` channel.

use rocket::http::Cookie;
use rocket::local::asynchronous::Client;
use serde_json::json;

use crate::common::{client, publish};

/// The page at `path`, sent with the `ra_channel` cookie when there is one.
async fn page(client: &Client, path: &str, cookie: Option<&str>) -> String {
    let mut request = client.get(path.to_owned());
    if let Some(value) = cookie {
        request = request.cookie(Cookie::new("ra_channel", value.to_owned()));
    }
    let response = request.dispatch().await;
    assert_eq!(response.status().code, 200, "GET {path}");
    response.into_string().await.expect("a page")
}

/// The page's first cursor.
fn next_of(page: &str) -> &str {
    let start = page.find("data-next=\"").expect("a data-next attribute") + "data-next=\"".len();
    let len = page[start..].find('"').expect("the attribute's end");
    &page[start..start + len]
}

/// Every distinct own channel name (`demo-` and 6 to 32 of `[a-z0-9]`) the page mentions.
fn own_channels(page: &str) -> Vec<String> {
    let mut names: Vec<String> = page
        .match_indices("demo-")
        .map(|(at, _)| {
            let rest: String = page[at + 5..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                .collect();
            rest
        })
        .filter(|rest| (6..=32).contains(&rest.len()))
        .map(|rest| format!("demo-{rest}"))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[rocket::async_test]
async fn a_page_shows_the_channel_of_its_query_then_its_cookie() {
    // Arrange: two own channels with different heads.
    let client = client().await;
    let from_query = publish(&client, "demo-query1", json!("q")).await;
    publish(&client, "demo-cookie1", json!("c")).await;
    let from_cookie = publish(&client, "demo-cookie1", json!("c")).await;

    for path in ["/polling", "/event-log"] {
        // Act
        let by_query = page(
            &client,
            &format!("{path}?channel=demo-query1"),
            Some("demo-cookie1"),
        )
        .await;
        let by_cookie = page(&client, path, Some("demo-cookie1")).await;
        let bad_query = page(
            &client,
            &format!("{path}?channel=Other"),
            Some("demo-cookie1"),
        )
        .await;

        // Assert
        assert_eq!(next_of(&by_query), from_query, "{path}: the query wins");
        assert!(by_query.contains("demo-query1"), "{path}");
        assert_eq!(next_of(&by_cookie), from_cookie, "{path}: then the cookie");
        assert_eq!(
            next_of(&bad_query),
            from_cookie,
            "{path}: an invalid query is ignored"
        );
    }
}

#[rocket::async_test]
async fn a_page_may_show_everyones_channel() {
    let client = client().await;
    let head = publish(&client, "demo", json!("for everyone")).await;

    let shown = page(&client, "/long-polling?channel=demo", Some("demo-cookie1")).await;

    assert_eq!(next_of(&shown), head);
}

#[rocket::async_test]
async fn a_new_visitor_gets_a_fresh_channel_of_their_own() {
    let client = client().await;
    publish(&client, "demo", json!("not yours")).await;

    let first = page(&client, "/polling", Some("not a channel")).await;
    let second = page(&client, "/polling", None).await;

    let (a, b) = (own_channels(&first), own_channels(&second));
    assert_eq!(a.len(), 1, "one own channel on the page: {a:?}");
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(a[0].len(), "demo-".len() + 12);
    assert_ne!(a, b, "every new visitor gets another channel");
}
