//! `/event-log`: rows rendered by the server, newest first, then kept live by polling.

use crate::harness::browser_test;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_log_renders_past_events_newest_first_and_prepends_new_ones_once() {
    browser_test(
        "event_log_renders_past_events_newest_first_and_prepends_new_ones_once",
        async |t| {
            let mut published = Vec::new();
            for n in 1..=3 {
                published.push(t.app.publish(&format!("e{n}")).await);
            }

            t.open("/event-log").await?;
            let first = t.demo().await?;
            let newest_first: Vec<String> = published.iter().rev().cloned().collect();
            assert_eq!(first.rows, newest_first, "server-rendered rows: {first:#?}");

            for n in 4..=5 {
                published.push(t.app.publish(&format!("e{n}")).await);
            }
            let live = t
                .wait_demo("5 rows in #event-log", |d| d.rows.len() >= 5)
                .await?;
            // One more answer with no event: a duplicate would have shown up by then.
            let settled = t
                .wait_demo("one more poll with no event after the rows arrived", |d| {
                    d.empty > live.empty
                })
                .await?;
            let newest_first: Vec<String> = published.iter().rev().cloned().collect();
            assert_eq!(
                settled.rows, newest_first,
                "newest first, once each: {settled:#?}"
            );
            Ok(())
        },
    )
    .await;
}
