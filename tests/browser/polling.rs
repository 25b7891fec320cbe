//! `/polling`: fetch on an interval.

use crate::harness::{browser_test, polling_page_shows_published_events};

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

        let published = t.app.demo_ids().await;
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
