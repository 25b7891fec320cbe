//! The flows several technique pages share: polling pages showing published events, long polls
//! answering empty at their cap, and push pages resuming after a reconnection.

use super::{App, Ctx, Demo, TestResult};

/// The shared flow of the interval-polling pages (`/polling`, `/jsonp-polling`): five events
/// published after the first answer show up once each, in order, and the counters move.
///
/// Returns the largest number of JSONP `<script>` elements seen in the page at one time.
pub async fn polling_page_shows_published_events(t: &Ctx, path: &str) -> TestResult<usize> {
    let most_scripts = std::cell::Cell::new(0);
    let track = |d: &Demo| most_scripts.set(most_scripts.get().max(d.scripts));

    t.open(&format!("{path}?interval=0.2")).await?;
    // An empty answer means the page holds a cursor, so nothing published now is missed.
    let first = t
        .wait_demo("a first answer with no event (#count-empty >= 1)", |d| {
            track(d);
            d.empty >= Some(1.0)
        })
        .await?;
    assert!(
        first.ids().is_empty(),
        "no event was published yet: {first:#?}"
    );

    let mut published = Vec::new();
    for n in 1..=5 {
        published.push(t.app.publish(&format!("e{n}")).await);
    }
    let arrived = t
        .wait_demo("5 event entries in #log", |d| {
            track(d);
            d.log_ids.len() >= 5
        })
        .await?;
    // One more empty answer after the events: a duplicate would have shown up by then.
    let settled = t
        .wait_demo(
            "one more answer with no event after the events arrived",
            |d| {
                track(d);
                d.empty > arrived.empty
            },
        )
        .await?;

    assert_eq!(
        settled.ids(),
        published,
        "each event once, in order: {settled:#?}"
    );
    assert_eq!(settled.events, Some(5.0), "#count-events: {settled:#?}");
    assert!(
        settled.requests > Some(1.0),
        "#count-requests: {settled:#?}"
    );
    assert!(settled.bytes > Some(0.0), "#count-bytes: {settled:#?}");
    assert!(settled.empty >= Some(1.0), "#count-empty: {settled:#?}");
    assert!(
        settled.p50.is_some() && settled.p95 >= settled.p50,
        "latency percentiles, p95 at least p50: {settled:#?}"
    );
    assert!(
        settled.log_errors.is_empty(),
        "no error entries: {settled:#?}"
    );
    Ok(most_scripts.get().max(settled.scripts))
}

/// What the push pages log once the server has accepted a stream or socket.
pub const CONNECTED: &str = "[client] connected";
/// What the long-polling pages log as they send each request.
const LONG_POLL_SENT: &str = "[client] waiting for events...";

/// Publishes `"{prefix} 1"` … `"{prefix} {count}"` on the test channel and returns their ids in order.
pub async fn publish_many(app: &App, prefix: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 1..=count {
        ids.push(app.publish(&format!("{prefix} {n}")).await);
    }
    ids
}

/// Publishes one last event and waits until it is the newest entry of `#log`. Every push
/// transport delivers in order, so a lost event or a duplicate would show before it.
pub async fn settle(t: &Ctx, published: &mut Vec<String>) -> TestResult<Demo> {
    let last = t.app.publish("last").await;
    published.push(last.clone());
    t.wait_demo("the last event published at the end of #log", |d| {
        d.log_ids.last() == Some(&Some(last.clone()))
    })
    .await
}

/// Opens a long-polling page (run with a short `push.long_poll_max_ms`) and waits until a held
/// request has come back empty at the cap, checking that no event arrived meanwhile.
pub async fn long_poll_page_answers_empty_at_the_cap(t: &Ctx, path: &str) -> TestResult<Demo> {
    t.open(path).await?;
    let idle = t
        .wait_demo(
            "an empty answer at the 1.5 s cap (#count-empty >= 1)",
            |d| d.empty >= Some(1.0) && d.requests >= Some(2.0),
        )
        .await?;
    assert!(idle.ids().is_empty(), "nothing was published: {idle:#?}");
    Ok(idle)
}

/// The shared flow of the push pages (streams, long polls, WebSocket): events published
/// while the page is connected show up once each, in order; then `#reconnect` drops the
/// connection, and the events published during and after the new connection's opening show
/// up too, none lost and none twice. Returns the texts of the log.
pub async fn push_page_resumes_after_reconnect(t: &Ctx, path: &str) -> TestResult<Vec<String>> {
    // Streams log "connected" once the server has accepted them, so the events published
    // next travel live down the open connection (not as a replay when it opens).
    let connected = |log: &Vec<String>| log.iter().filter(|l| *l == CONNECTED).count();
    let long_poll = |log: &Vec<String>| log.iter().any(|l| l == LONG_POLL_SENT);
    t.open(path).await?;
    t.wait_log("the stream connected, or a long poll sent", |log| {
        connected(log) >= 1 || long_poll(log)
    })
    .await?;

    let mut published = publish_many(&t.app, "before", 5).await;
    let before = t
        .wait_demo("5 event entries in #log", |d| d.log_ids.len() >= 5)
        .await?;

    t.click("#reconnect").await?;
    published.extend(publish_many(&t.app, "during", 5).await);
    t.wait_demo("a new connection (#count-requests grew)", |d| {
        d.requests > before.requests
    })
    .await?;
    t.wait_log("the new stream connected, or a long poll sent", |log| {
        connected(log) >= 2 || long_poll(log)
    })
    .await?;
    published.extend(publish_many(&t.app, "after", 5).await);

    let settled = settle(t, &mut published).await?;
    assert_eq!(
        settled.ids(),
        published,
        "each event once, in order, across the reconnection: {settled:#?}"
    );
    assert_eq!(
        settled.events,
        Some(published.len() as f64),
        "#count-events: {settled:#?}"
    );
    assert!(settled.bytes > Some(0.0), "#count-bytes: {settled:#?}");
    assert!(
        settled.log_errors.is_empty(),
        "a reconnection on request is not an error: {settled:#?}"
    );
    t.log_texts().await
}
