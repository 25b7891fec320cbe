//! `/jsonp-polling`: a new `<script>` element per poll.

use crate::harness::{browser_test, polling_page_shows_published_events};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonp_polling_page_logs_each_published_event_once_in_order() {
    browser_test(
        "jsonp_polling_page_logs_each_published_event_once_in_order",
        async |t| {
            let most_scripts = polling_page_shows_published_events(t, "/jsonp-polling").await?;
            assert!(
                most_scripts <= 1,
                "at most one JSONP <script> in the page at a time, saw {most_scripts}"
            );
            Ok(())
        },
    )
    .await;
}
