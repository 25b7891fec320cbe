//! What each page teaches from its first second: the pattern it starts on and why, what to do
//! on the piggyback page and what its timeline shows, and the forever iframe's raw panel.

use std::time::Duration;

use fantoccini::Locator;

use crate::harness::{browser_test, browser_test_with, wait_for};

/// The page's pattern chooser, its reason and what the server runs on the test channel.
const PATTERN_JS: &str = r#"
return {
  chosen: document.getElementById('pattern').value,
  why: document.getElementById('pattern-why')?.textContent.trim() ?? '',
  status: document.getElementById('pattern-status')?.textContent ?? '',
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_page_starts_on_the_pattern_that_shows_its_lesson_and_says_why() {
    browser_test(
        "each_page_starts_on_the_pattern_that_shows_its_lesson_and_says_why",
        async |t| {
            // `pattern=page` names no pattern, so the page's own default decides.
            for (path, pattern, reason) in [
                ("/polling", "every-10s", "most answers come"),
                ("/jsonp-polling", "every-10s", "most answers come"),
                ("/server-sent-events", "ticker", "no request per event"),
                ("/websocket", "ticker", "no request at all"),
                ("/long-polling", "quiet", "held for the server's whole cap"),
                (
                    "/script-long-polling",
                    "quiet",
                    "held for the server's whole cap",
                ),
            ] {
                t.load(&format!("{path}?pattern=page")).await?;
                let seen = wait_for(
                    &t.client,
                    &format!("{path} to set its pattern"),
                    Duration::from_secs(10),
                    async |c| Ok(c.execute(PATTERN_JS, vec![]).await?),
                    |s| s["status"].as_str().is_some_and(|s| s.contains(pattern)),
                )
                .await?;
                assert_eq!(seen["chosen"], pattern, "{path}: {seen}");
                assert!(
                    seen["why"].as_str().is_some_and(|w| w.contains(reason)),
                    "{path} says why: {seen}"
                );
            }
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_page_shows_one_empty_answer_then_moves_on_to_the_ticker() {
    browser_test_with(
        "a_long_poll_page_shows_one_empty_answer_then_moves_on_to_the_ticker",
        |figment| {
            figment
                .merge(("push.long_poll_max_ms", 1500))
                .merge(("ticker.min_ms", 200))
                .merge(("ticker.max_ms", 400))
        },
        async |t| {
            t.open("/long-polling?pattern=page").await?;
            let first = t
                .wait_demo("the first held request to come back empty", |d| {
                    d.empty >= Some(1.0)
                })
                .await?;
            assert!(first.ids().is_empty(), "quiet until then: {first:#?}");
            let moved = wait_for(
                &t.client,
                "the chooser to move on to the ticker",
                Duration::from_secs(10),
                async |c| Ok(c.execute(PATTERN_JS, vec![]).await?),
                |s| {
                    s["chosen"] == "ticker"
                        && s["status"].as_str().is_some_and(|s| s.contains("ticker"))
                },
            )
            .await?;
            assert!(
                moved["why"]
                    .as_str()
                    .is_some_and(|w| w.contains("switches to the ticker"))
            );
            let ticking = t
                .wait_demo("ticker events to arrive", |d| d.ids().len() >= 2)
                .await?;
            assert_eq!(
                ticking.empty,
                Some(1.0),
                "after that, events answer the polls: {ticking:#?}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piggyback_says_what_to_do_and_draws_how_long_events_waited() {
    browser_test(
        "piggyback_says_what_to_do_and_draws_how_long_events_waited",
        async |t| {
            t.load("/piggyback").await?;
            let hint = t.client.find(Locator::Css("#piggyback-hint")).await?;
            assert!(hint.is_displayed().await?, "the demo says what to do");
            let text = hint.text().await?;
            assert!(text.contains("until you send the form"), "{text}");

            // Two events wait on the server; then the visitor sends the form.
            t.app.publish("first").await;
            t.app.publish("second").await;
            t.click("#register button[type=submit]").await?;
            let waits = wait_for(
                &t.client,
                "the timeline to draw both waits",
                Duration::from_secs(10),
                async |c| {
                    Ok(c.execute(
                        "return Array.from(document.querySelectorAll('.live-timeline .mark-wait'), (m) => m.getAttribute('aria-label'))",
                        vec![],
                    )
                    .await?)
                },
                |w| w.as_array().is_some_and(|w| w.len() == 2),
            )
            .await?;
            assert!(
                waits.as_array().into_iter().flatten().all(|w| w
                    .as_str()
                    .is_some_and(|w| w.contains("waited") && w.contains("on the server"))),
                "{waits}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forever_iframes_raw_panel_shows_the_chunk_the_server_sent() {
    browser_test(
        "the_forever_iframes_raw_panel_shows_the_chunk_the_server_sent",
        async |t| {
            t.load("/forever-iframe").await?;
            t.wait_demo("the stream to open", |d| d.requests >= Some(1.0))
                .await?;
            let id = t.app.publish("through the iframe").await;
            let raw = wait_for(
                &t.client,
                "the raw panel to show the event's chunk",
                Duration::from_secs(10),
                async |c| {
                    Ok(c.execute(
                        "return document.getElementById('wire-raw').textContent",
                        vec![],
                    )
                    .await?)
                },
                |r| r.as_str().is_some_and(|r| r.contains(&id)),
            )
            .await?;
            let raw = raw.as_str().unwrap_or_default();
            let nonce = raw
                .strip_prefix("<script nonce=\"")
                .and_then(|rest| rest.split_once('"'))
                .map(|(nonce, _)| nonce)
                .unwrap_or_default();
            assert!(
                nonce.len() == 32 && nonce.chars().all(|c| c.is_ascii_hexdigit()),
                "the nonce the server sent: {raw}"
            );
            assert!(
                !raw.contains("xmlns"),
                "nothing the server did not send: {raw}"
            );
            assert!(
                raw.contains("\">parent.foreverIframe({\"type\":\"event\"")
                    && raw.ends_with("});</script>"),
                "{raw}"
            );
            Ok(())
        },
    )
    .await;
}
