//! Access control through every transport and the publish API: tokens (missing, expired,
//! forged, not covering, covering), `private-…` channels, the publish rate limit, the
//! held-connection limit and the origin check. These tests start from the shipped
//! defaults (`demo` and `demo-*` public to publish, everything public to read), not from
//! the open configuration the other suites use.

use std::net::SocketAddr;
use std::time::Duration;

use reverse_ajax::access::token::{ChannelClaims, Claims, Keys, expiry};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::Value;

use crate::common::within;

const SECRET: &str = "a test secret, at least thirty-two bytes long";

/// The app with the shipped access defaults, a secret, short holds, and only `demo` and
/// `demo-*` readable without a token (so that `team-…` channels are closed both ways).
async fn guarded() -> Client {
    guarded_with(|f| f.merge(("auth.public_subscribe", ["demo", "demo-*"]))).await
}

async fn guarded_with(
    change: impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment,
) -> Client {
    let figment = rocket::Config::figment()
        .merge(("ticker.enabled", false))
        .merge(("log_level", "off"))
        .merge(("auth.secret", SECRET))
        .merge(("push.probe_ms", 20))
        .merge(("push.long_poll_max_ms", 50));
    Client::tracked(reverse_ajax::rocket_from(change(figment)))
        .await
        .expect("the application ignites")
}

/// A token signed with `secret`, expiring `ttl` seconds from now (negative: in the past).
fn token_with(secret: &str, ttl: i64, publish: &[&str], subscribe: &[&str]) -> String {
    let now = expiry(Duration::ZERO);
    let claims = Claims {
        exp: now.saturating_add_signed(ttl),
        sub: Some("test".into()),
        channels: ChannelClaims {
            publish: publish.iter().map(|s| (*s).to_owned()).collect(),
            subscribe: subscribe.iter().map(|s| (*s).to_owned()).collect(),
        },
    };
    Keys::new(secret)
        .expect("a usable secret")
        .issue(&claims)
        .expect("a signed token")
}

fn token(publish: &[&str], subscribe: &[&str]) -> String {
    token_with(SECRET, 3600, publish, subscribe)
}

/// Every route that reads or writes a channel, with the status it answers when allowed.
const ROUTES: &[(&str, &str, u16)] = &[
    ("polling", "GET /api/channels/{ch}/events", 200),
    (
        "jsonp-polling",
        "GET /api/channels/{ch}/events?callback=cb",
        200,
    ),
    ("piggyback", "POST /piggyback?channel={ch}", 200),
    ("forever-iframe", "GET /push/{ch}/iframe", 200),
    ("multipart-streaming", "GET /push/{ch}/multipart", 200),
    ("server-sent-events", "GET /push/{ch}/sse", 200),
    (
        "script-long-polling",
        "GET /push/{ch}/script?callback=cb",
        200,
    ),
    ("long-polling", "GET /push/{ch}/long-poll", 200),
    // Rocket's local client does not switch protocols: an accepted handshake reaches it as
    // the handler's 200, before the server would turn it into a 101 (tests/live does that).
    ("websocket", "GET /push/{ch}/ws", 200),
    ("publish", "POST /api/channels/{ch}/events", 201),
];

/// How a request carries its token.
#[derive(Clone, Copy)]
enum Carry<'a> {
    Nothing,
    Bearer(&'a str),
    Query(&'a str),
}

/// Sends `route` on channel `ch`; publishes and piggyback forms carry a small body.
async fn send<'c>(
    client: &'c Client,
    route: &str,
    ch: &str,
    carry: Carry<'_>,
) -> LocalResponse<'c> {
    let (method, path) = route.split_once(' ').expect("METHOD path");
    let mut path = path.replace("{ch}", ch);
    if let Carry::Query(token) = carry {
        let join = if path.contains('?') { '&' } else { '?' };
        path = format!("{path}{join}token={token}");
    }
    let mut request = match method {
        "POST" => client.post(path),
        _ => client.get(path),
    };
    if let Carry::Bearer(token) = carry {
        request = request.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    if route.starts_with("POST /piggyback") {
        request = request.header(ContentType::Form).body("name=Ada");
    } else if method == "POST" {
        request = request.header(ContentType::JSON).body("{\"n\":1}");
    }
    if route.ends_with("/ws") {
        for (name, value) in [
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ] {
            request = request.header(Header::new(name, value));
        }
    }
    within(Duration::from_secs(5), request.dispatch()).await
}

/// Asserts a JSON refusal with `status` whose message contains `words`, and no script.
async fn assert_refused(response: LocalResponse<'_>, status: u16, words: &str, what: &str) {
    assert_eq!(response.status().code, status, "{what}");
    assert_eq!(response.content_type(), Some(ContentType::JSON), "{what}");
    if status == 401 {
        assert!(
            response.headers().get_one("WWW-Authenticate").is_some(),
            "{what}: a 401 names its scheme"
        );
    }
    let body = response.into_string().await.unwrap_or_default();
    assert!(
        !body.contains("cb("),
        "{what}: a refusal never calls the callback: {body}"
    );
    let error: Value = serde_json::from_str(&body).expect("a JSON error body");
    let message = error["error"].as_str().unwrap_or_default();
    assert!(
        message.contains(words),
        "{what}: {message:?} should say {words:?}"
    );
}

#[rocket::async_test]
async fn every_route_refuses_a_missing_expired_forged_or_narrow_token_and_admits_a_covering_one() {
    let client = guarded().await;
    let covering = token(&["team-*"], &["team-*"]);
    let expired = token_with(SECRET, -3600, &["team-*"], &["team-*"]);
    let forged = token_with(&SECRET.replace('a', "b"), 3600, &["team-*"], &["team-*"]);
    let narrow = token(&["other-*"], &["other-*"]);
    let refusals = [
        (Carry::Nothing, 401, "need a token", "without a token"),
        (
            Carry::Query(&expired),
            401,
            "expired",
            "with an expired token",
        ),
        (
            Carry::Bearer(&forged),
            401,
            "signature",
            "with a forged token",
        ),
        (
            Carry::Query("not-a-jwt"),
            401,
            "JWT",
            "with a malformed token",
        ),
        (Carry::Query(&narrow), 403, "may not", "with a narrow token"),
    ];
    for &(name, route, allowed) in ROUTES {
        for &(carry, status, words, how) in &refusals {
            let refused = send(&client, route, "team-a", carry).await;
            assert_refused(refused, status, words, &format!("{name} {how}")).await;
        }
        for carry in [Carry::Query(&covering), Carry::Bearer(&covering)] {
            let admitted = send(&client, route, "team-a", carry).await;
            assert_eq!(
                admitted.status().code,
                allowed,
                "{name} with a covering token"
            );
        }
    }
}

#[rocket::async_test]
async fn private_channels_need_a_covering_token_even_where_everything_is_public() {
    let open = |f: rocket::figment::Figment| {
        f.merge(("auth.public_publish", ["*"]))
            .merge(("auth.public_subscribe", ["*"]))
    };
    let client = guarded_with(open).await;
    let mine = token(&["private-ada"], &["private-ada"]);
    for &(name, route, allowed) in ROUTES {
        let anonymous = send(&client, route, "private-ada", Carry::Nothing).await;
        assert_refused(anonymous, 401, "need a token", &format!("{name} anonymous")).await;
        let theirs = send(&client, route, "private-bob", Carry::Query(&mine)).await;
        assert_refused(
            theirs,
            403,
            "may not",
            &format!("{name} on another's channel"),
        )
        .await;
        let own = send(&client, route, "private-ada", Carry::Query(&mine)).await;
        assert_eq!(
            own.status().code,
            allowed,
            "{name} on its own private channel"
        );
    }
}

#[rocket::async_test]
async fn public_channels_need_no_token_and_without_a_secret_the_refusal_says_how_to_set_one() {
    let client =
        crate::common::client_with(|f| f.merge(("auth.public_publish", ["demo", "demo-*"]))).await;
    for &(name, route, allowed) in ROUTES {
        let demo = send(&client, route, "demo-1", Carry::Nothing).await;
        assert_eq!(demo.status().code, allowed, "{name} on a public channel");
    }
    let closed = send(
        &client,
        "POST /api/channels/{ch}/events",
        "team-a",
        Carry::Nothing,
    )
    .await;
    assert_refused(closed, 401, "ROCKET_AUTH", "publish without a secret").await;
    let unverifiable = send(&client, ROUTES[0].1, "demo", Carry::Bearer("x.y.z")).await;
    assert_refused(
        unverifiable,
        401,
        "no [auth] secret",
        "a token without a secret",
    )
    .await;
}

/// A publish on `demo` from `from`.
async fn publish_from<'c>(client: &'c Client, from: SocketAddr) -> LocalResponse<'c> {
    client
        .post("/api/channels/demo/events")
        .remote(from)
        .header(ContentType::JSON)
        .body("{}")
        .dispatch()
        .await
}

#[rocket::async_test]
async fn a_burst_of_anonymous_publishes_is_limited_per_client() {
    let client = guarded().await;
    let first: SocketAddr = "192.0.2.1:1000".parse().unwrap();
    let (mut stored, mut limited) = (0, 0);
    for _ in 0..100 {
        let response = publish_from(&client, first).await;
        match response.status() {
            Status::Created => stored += 1,
            Status::TooManyRequests => {
                let wait = response
                    .headers()
                    .get_one("Retry-After")
                    .unwrap_or_default();
                assert!(
                    wait.parse::<u64>().is_ok_and(|s| s >= 1),
                    "Retry-After: {wait:?}"
                );
                limited += 1;
            }
            other => panic!("a publish answered {other}"),
        }
    }
    // Bursts of twice the rate (20/s), plus what refills while the loop runs.
    assert!((40..60).contains(&stored), "{stored} stored");
    assert_eq!(stored + limited, 100);
    let second: SocketAddr = "192.0.2.2:1000".parse().unwrap();
    assert_eq!(
        publish_from(&client, second).await.status(),
        Status::Created
    );
}

#[rocket::async_test]
async fn held_connections_past_the_per_client_limit_are_refused_with_503() {
    let client = guarded_with(|f| f.merge(("clients.held_per_ip", 20))).await;
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..25 {
        let response = send(&client, "GET /push/{ch}/sse", "demo", Carry::Nothing).await;
        match response.status().code {
            200 => open.push(response),
            503 => {
                assert!(response.headers().get_one("Retry-After").is_some());
                refused += 1;
            }
            other => panic!("an SSE request answered {other}"),
        }
    }
    assert_eq!((open.len(), refused), (20, 5));
    // A closed stream frees its place.
    drop(open.pop());
    let again = send(&client, "GET /push/{ch}/sse", "demo", Carry::Nothing).await;
    assert_eq!(again.status().code, 200);
}

/// Sends `route` on `demo` as a page at `origin` would, with `Host` set to match it.
async fn from_page<'c>(client: &'c Client, route: &str, origin: &str) -> LocalResponse<'c> {
    let (method, path) = route.split_once(' ').expect("METHOD path");
    let path = path.replace("{ch}", "demo");
    let host = origin.split("://").nth(1).unwrap_or_default().to_owned();
    let mut request = match method {
        "POST" => client.post(path),
        _ => client.get(path),
    }
    .header(Header::new("Origin", origin.to_owned()))
    .header(Header::new("Host", host));
    request = match route {
        r if r.contains("piggyback") => request.header(ContentType::Form).body("name=Ada"),
        r if r.ends_with("/ws") => request
            .header(Header::new("Connection", "Upgrade"))
            .header(Header::new("Upgrade", "websocket"))
            .header(Header::new("Sec-WebSocket-Version", "13"))
            .header(Header::new("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")),
        _ => request.header(ContentType::JSON).body("{}"),
    };
    request.dispatch().await
}

#[rocket::async_test]
async fn other_sites_may_not_publish_post_the_form_or_open_a_websocket() {
    let client = guarded().await;
    let acting = [
        ("POST /api/channels/{ch}/events", 201),
        ("POST /piggyback", 200),
        ("GET /push/{ch}/ws", 200),
    ];
    for (route, allowed) in acting {
        // Host and Origin agree, as on a DNS-rebinding page: still not this site.
        let rebound = from_page(&client, route, "http://evil.example").await;
        assert_refused(rebound, 403, "origin", route).await;
        let own = from_page(&client, route, "http://127.0.0.1:8000").await;
        assert_eq!(
            own.status().code,
            allowed,
            "{route} from the site's own origin"
        );
    }
    let cross = client
        .post("/api/channels/demo/events")
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .header(ContentType::Plain)
        .body("hello")
        .dispatch()
        .await;
    assert_refused(cross, 403, "cross-site", "a cross-site text/plain publish").await;
}

#[rocket::async_test]
async fn listed_origins_replace_the_loopback_defaults() {
    let site = vec!["https://push.example.org".to_owned()];
    let client = guarded_with(|f| f.merge(("site.origins", site))).await;
    let listed = from_page(&client, ROUTES[9].1, "https://push.example.org").await;
    assert_eq!(listed.status(), Status::Created);
    let loopback = from_page(&client, ROUTES[9].1, "http://127.0.0.1:8000").await;
    assert_eq!(loopback.status(), Status::Forbidden);
}

#[rocket::async_test]
async fn a_token_made_by_the_python_script_is_accepted() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/make-token.py");
    let made = std::process::Command::new("python3")
        .arg(script)
        .args(["--publish", "team-*", "--ttl", "60"])
        .env("SECRET", SECRET)
        .output();
    let token = match made {
        Ok(output) if output.status.success() => String::from_utf8(output.stdout).unwrap(),
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "python3 is needed: {other:?}"
            );
            eprintln!("skipped: python3 did not run scripts/make-token.py ({other:?})");
            return;
        }
    };
    let client = guarded().await;
    let route = "POST /api/channels/{ch}/events";
    let stored = send(&client, route, "team-a", Carry::Bearer(token.trim())).await;
    assert_eq!(stored.status(), Status::Created);
}
