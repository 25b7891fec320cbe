//! `/polling`: fetch on an interval.

use fantoccini::Locator;

use crate::harness::{
    Demo, TestResult, WAIT, browser_test, demo_of, polling_page_shows_published_events, wait_for,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_page_logs_each_published_event_once_in_order() {
    browser_test(
        "polling_page_logs_each_published_event_once_in_order",
        async |t| {
            polling_page_shows_published_events(t, "/polling").await?;
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_button_event_shows_up_in_the_log_once() {
    browser_test("send_button_event_shows_up_in_the_log_once", async |t| {
        t.open("/polling?interval=0.2").await?;
        t.wait_demo("a first answer with no event (#count-empty >= 1)", |d| {
            d.empty >= Some(1.0)
        })
        .await?;

        t.click("#send-event").await?;
        let arrived = t
            .wait_demo("an event entry in #log", |d| !d.log_ids.is_empty())
            .await?;
        let settled = t
            .wait_demo(
                "one more answer with no event after the event arrived",
                |d| d.empty > arrived.empty,
            )
            .await?;

        let published = t.app.channel_ids().await;
        assert_eq!(
            published.len(),
            1,
            "the button published one event: {published:?}"
        );
        assert_eq!(settled.ids(), published, "the event once: {settled:#?}");
        assert_eq!(settled.events, Some(1.0), "#count-events: {settled:#?}");
        Ok(())
    })
    .await;
}

/// The channel a page uses, as its script chose it.
async fn page_channel(client: &fantoccini::Client) -> TestResult<String> {
    let value = client
        .execute(
            "return document.querySelector('.channel-name')?.textContent ?? '';",
            vec![],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browser_profiles_get_different_channels_and_never_see_each_others_events() {
    browser_test(
        "two_browser_profiles_get_different_channels_and_never_see_each_others_events",
        async |t| {
            // Two visitors: separate profiles, so separate storage and cookies.
            let other = t.second_browser().await?;
            let path = "/polling?interval=0.2&pattern=quiet";
            t.open_as_visitor(&t.client, path).await?;
            t.open_as_visitor(&other, path).await?;
            let first = |d: &Demo| d.empty >= Some(1.0);
            wait_for(
                &t.client,
                "a first empty answer (first visitor)",
                WAIT,
                demo_of,
                first,
            )
            .await?;
            wait_for(
                &other,
                "a first empty answer (second visitor)",
                WAIT,
                demo_of,
                first,
            )
            .await?;

            let mine = page_channel(&t.client).await?;
            let theirs = page_channel(&other).await?;
            for name in [&mine, &theirs] {
                assert!(
                    name.starts_with("demo-") && name.len() >= 11,
                    "a visitor channel, not the shared one: {name:?}"
                );
            }
            assert_ne!(mine, theirs, "each visitor has a channel of their own");

            let mut to_mine = Vec::new();
            let mut to_theirs = Vec::new();
            for n in 1..=3 {
                to_mine.push(t.app.publish_on(&mine, &format!("mine {n}")).await);
                to_theirs.push(t.app.publish_on(&theirs, &format!("theirs {n}")).await);
            }
            let seen_by_me = wait_for(&t.client, "3 events (first visitor)", WAIT, demo_of, |d| {
                d.log_ids.len() >= 3
            })
            .await?;
            let seen_by_them = wait_for(&other, "3 events (second visitor)", WAIT, demo_of, |d| {
                d.log_ids.len() >= 3
            })
            .await?;
            // One more empty answer on each side: a stray event would have arrived by then.
            let seen_by_me = wait_for(&t.client, "one more empty answer", WAIT, demo_of, |d| {
                d.empty > seen_by_me.empty
            })
            .await?;
            let seen_by_them = wait_for(&other, "one more empty answer", WAIT, demo_of, |d| {
                d.empty > seen_by_them.empty
            })
            .await?;
            assert_eq!(seen_by_me.ids(), to_mine, "only my events: {seen_by_me:#?}");
            assert_eq!(
                seen_by_them.ids(),
                to_theirs,
                "only their events: {seen_by_them:#?}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quiet_pattern_gives_empty_polls_after_the_ticker() {
    browser_test(
        "the_quiet_pattern_gives_empty_polls_after_the_ticker",
        async |t| {
            // The ticker pattern first: events come without anyone sending.
            t.open("/polling?interval=0.2&pattern=ticker").await?;
            t.wait_demo("an event from the ticker pattern", |d| {
                d.events >= Some(1.0)
            })
            .await?;

            t.client
                .find(Locator::Id("pattern"))
                .await?
                .select_by_value("quiet")
                .await?;
            let switched = t
                .wait_demo("the server confirming the quiet pattern", |d| {
                    d.pattern_status
                        .as_deref()
                        .is_some_and(|s| s.contains(": quiet"))
                })
                .await?;
            // An event already on its way may still come with the next answer.
            let start = t
                .wait_demo("two more answers", |d| {
                    d.requests >= switched.requests.map(|r| r + 2.0)
                })
                .await?;
            let quiet = t
                .wait_demo("ten more empty answers", |d| {
                    d.empty >= start.empty.map(|e| e + 10.0)
                })
                .await?;
            assert_eq!(
                quiet.events, start.events,
                "no event while the pattern is quiet: {quiet:#?}"
            );
            assert!(quiet.log_errors.is_empty(), "no error entries: {quiet:#?}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_arrives_in_order_once_each() {
    browser_test("a_burst_arrives_in_order_once_each", async |t| {
        t.open("/polling?interval=0.2").await?;
        t.wait_demo("a first answer with no event", |d| d.empty >= Some(1.0))
            .await?;
        t.click("#burst").await?;
        let arrived = t
            .wait_demo("10 events in #log", |d| d.log_ids.len() >= 10)
            .await?;
        let settled = t
            .wait_demo("one more empty answer after the burst", |d| {
                d.empty > arrived.empty
            })
            .await?;
        assert_eq!(
            settled.ids(),
            t.app.channel_ids().await,
            "once each, in order"
        );
        let log = t.log_texts().await?;
        let texts: Vec<&String> = log.iter().filter(|l| l.starts_with("[event] ")).collect();
        let expected: Vec<String> = (1..=10)
            .map(|n| format!("[event] Burst {n} of 10"))
            .collect();
        assert_eq!(
            texts.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            expected.iter().map(String::as_str).collect::<Vec<_>>(),
            "the burst's texts in order: {log:#?}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bytes_counter_counts_headers_as_well_as_bodies() {
    browser_test(
        "the_bytes_counter_counts_headers_as_well_as_bodies",
        async |t| {
            // One poll, then a long pause: the counters stay still while they are read.
            t.open("/polling?interval=30").await?;
            let first = t
                .wait_demo("the first answer in the raw panel", |d| {
                    d.requests == Some(1.0) && d.raw.as_deref().is_some_and(|r| r.starts_with('{'))
                })
                .await?;
            let body = first.raw.clone().unwrap_or_default().len() as f64;
            // The measured size arrives a moment after the answer.
            let counted = t
                .wait_demo("the bytes counter to pass the body's size", |d| {
                    d.bytes > Some(body)
                })
                .await?;
            let bytes = counted.bytes.unwrap_or_default();
            assert!(
                bytes >= body + 100.0,
                "{bytes} B counted for a {body} B body: the headers are missing"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_timeline_draws_one_mark_per_request() {
    browser_test("the_live_timeline_draws_one_mark_per_request", async |t| {
        t.open("/polling?interval=0.2").await?;
        let busy = t
            .wait_demo("five requests", |d| d.requests >= Some(5.0))
            .await?;
        // Counters and marks are read in one script, so they describe the same moment.
        assert_eq!(
            Some(busy.marks as f64),
            busy.requests,
            "one request mark per request: {busy:#?}"
        );
        let titles = t
            .client
            .execute(
                "return Array.from(document.querySelectorAll('.live-timeline .mark-req'), \
                 (g) => [g.getAttribute('tabindex'), g.querySelector('title').textContent]);",
                vec![],
            )
            .await?;
        let titles: Vec<(String, String)> = serde_json::from_value(titles)?;
        let (tabindex, first) = &titles[0];
        assert_eq!(tabindex, "0", "each mark can be focused");
        assert!(
            first.starts_with("GET /api/channels/demo-browsertest/events")
                && first.contains("→ 200"),
            "the tooltip shows the request line and status: {first:?}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trailing_slash_redirects_and_the_demo_works_there() {
    browser_test(
        "a_trailing_slash_redirects_and_the_demo_works_there",
        async |t| {
            polling_page_shows_published_events(t, "/polling/").await?;
            let url = t.client.current_url().await?;
            assert_eq!(url.path(), "/polling", "redirected to the page: {url}");
            assert!(
                url.query().is_some_and(|q| q.contains("interval=0.2")),
                "the query survives the redirect: {url}"
            );
            Ok(())
        },
    )
    .await;
}
