//! What every demo shares: the "Send an event" box and its break-out preset, the live
//! timeline of held requests and sockets, and the counters' labels.

use serde::Deserialize;

use crate::harness::{Ctx, TestResult, WAIT, browser_test, browser_test_with, wait_for};

/// The text the preset fills in.
const BREAKOUT: &str = "</script><img src=x onerror=alert(1)>";

/// What could show that the preset's markup ran, on the page and in its iframes.
#[derive(Debug, Deserialize)]
struct Inertness {
    /// `<img>` elements in the page and in same-origin iframes.
    images: usize,
    /// Event texts in `#log` (without the latency) and in `#event-log`.
    texts: Vec<String>,
    /// The raw panel's text.
    raw: String,
}

const INERTNESS_JS: &str = r#"
const docs = [document];
for (const f of document.querySelectorAll('iframe')) {
  try { if (f.contentDocument) docs.push(f.contentDocument); } catch (e) {}
}
const texts = Array.from(document.querySelectorAll('#log li.log-entry[data-kind="event"]'), (li) =>
  Array.from(li.childNodes).filter((n) => !n.classList?.contains('latency'))
    .map((n) => n.textContent).join('').trim());
for (const t of document.querySelectorAll('#event-log li .text')) texts.push(`[event] ${t.textContent}`);
return {
  images: docs.reduce((n, d) => n + d.querySelectorAll('img').length, 0),
  texts,
  raw: document.getElementById('wire-raw')?.textContent ?? '',
};
"#;

async fn inertness(t: &Ctx) -> TestResult<Inertness> {
    let value = t.client.execute(INERTNESS_JS, vec![]).await?;
    Ok(serde_json::from_value(value)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_break_out_preset_shows_as_inert_text_on_every_demo() {
    browser_test_with(
        "the_break_out_preset_shows_as_inert_text_on_every_demo",
        |figment| figment.merge(("push.long_poll_max_ms", 1500)),
        async |t| {
            let pages = [
                "/polling?interval=0.2",
                "/jsonp-polling?interval=0.2",
                "/long-polling",
                "/script-long-polling",
                "/forever-iframe",
                "/multipart-streaming",
                "/server-sent-events",
                "/websocket",
                "/event-log",
            ];
            let expected = format!("[event] {BREAKOUT}");
            for path in pages {
                t.open(path).await?;
                // Send once the page is listening: its first request has gone out.
                t.wait_demo(&format!("{path}: a first request"), |d| {
                    d.requests >= Some(1.0)
                })
                .await?;
                t.wait_log(&format!("{path}: connected or polling"), |log| {
                    log.iter().any(|l| {
                        l == "[client] connected"
                            || l == "[client] No event"
                            || l == "[client] waiting for events..."
                    }) || path.starts_with("/event-log")
                })
                .await?;
                t.click("#event-preset").await?;
                t.click("#send-event").await?;
                let seen = wait_for(
                    &t.client,
                    &format!("{path}: the preset's text as an event"),
                    WAIT,
                    async |_| inertness(t).await,
                    |i| i.texts.contains(&expected),
                )
                .await?;
                assert_eq!(seen.images, 0, "{path}: no markup ran: {seen:#?}");
                assert!(
                    !seen.raw.is_empty(),
                    "{path}: the raw answer is shown: {seen:#?}"
                );
            }
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_timeline_draws_the_handshake_and_the_open_socket() {
    browser_test(
        "the_websocket_timeline_draws_the_handshake_and_the_open_socket",
        async |t| {
            t.open("/websocket").await?;
            t.wait_log("the socket to open", |log| {
                log.iter().any(|l| l == "[client] connected")
            })
            .await?;
            let published = t.app.publish("over the socket").await;
            t.wait_demo("the event", |d| d.ids() == vec![published.clone()])
                .await?;
            let js = "return {
                 marks: document.querySelectorAll('.live-timeline .mark-req').length,
                 upgrade: document.querySelectorAll('.live-timeline .ans-upgrade').length,
                 pipe: document.querySelectorAll('.live-timeline .pipe').length,
                 pushes: document.querySelectorAll('.live-timeline .mark-push').length,
                 title: document.querySelector('.live-timeline .mark-req title')?.textContent ?? '',
               };";
            let drawn = t.client.execute(js, vec![]).await?;
            assert_eq!(drawn["marks"], 1, "one connection: {drawn}");
            assert_eq!(drawn["upgrade"], 1, "one 101 answer: {drawn}");
            assert_eq!(drawn["pipe"], 1, "the open socket as a band: {drawn}");
            assert!(
                drawn["pushes"].as_u64() >= Some(1),
                "the event's frame: {drawn}"
            );
            let title = drawn["title"].as_str().unwrap_or_default();
            assert!(title.contains("→ 101"), "the tooltip says 101: {title:?}");
            let counters = t.demo().await?;
            assert!(
                counters.frames >= Some(1.0),
                "frames are counted: {counters:#?}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_pages_label_their_counters_for_connections_and_estimates() {
    browser_test(
        "stream_pages_label_their_counters_for_connections_and_estimates",
        async |t| {
            let js = "return Array.from(document.querySelectorAll('.counters dt'), (dt) => dt.textContent.trim());";
            t.open("/server-sent-events").await?;
            let labels: Vec<String> = serde_json::from_value(t.client.execute(js, vec![]).await?)?;
            assert!(labels.contains(&"Connections opened".to_owned()), "{labels:?}");
            assert!(labels.iter().any(|l| l.contains("estimate")), "{labels:?}");
            t.open("/polling").await?;
            let labels: Vec<String> = serde_json::from_value(t.client.execute(js, vec![]).await?)?;
            assert!(labels.contains(&"Requests".to_owned()), "{labels:?}");
            assert!(labels.iter().any(|l| l.contains("measured")), "{labels:?}");
            t.open("/websocket").await?;
            let labels: Vec<String> = serde_json::from_value(t.client.execute(js, vec![]).await?)?;
            assert!(labels.contains(&"Frames received".to_owned()), "{labels:?}");
            Ok(())
        },
    )
    .await;
}
