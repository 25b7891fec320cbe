//! `/script-long-polling`: one held JSONP `<script>` at a time.

use crate::harness::{
    TestResult, browser_test_with, long_poll_page_answers_empty_at_the_cap,
    push_page_resumes_after_reconnect,
};

/// How many long-poll `<script>` elements are in the page.
async fn held_scripts(t: &crate::harness::Ctx) -> TestResult<u64> {
    let js = "return document.querySelectorAll('script[src*=\"/script?\"]').length;";
    let value = t.client.execute(js, vec![]).await?;
    Ok(value.as_u64().unwrap_or(u64::MAX))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_long_polling_page_resumes_after_a_reconnect_without_loss() {
    browser_test_with(
        "script_long_polling_page_resumes_after_a_reconnect_without_loss",
        |figment| figment.merge(("push.long_poll_max_ms", 1500)),
        async |t| {
            push_page_resumes_after_reconnect(t, "/script-long-polling").await?;
            let scripts = held_scripts(t).await?;
            assert!(scripts <= 1, "one script element at most, saw {scripts}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_long_polling_page_counts_the_empty_answer_at_the_cap() {
    browser_test_with(
        "script_long_polling_page_counts_the_empty_answer_at_the_cap",
        |figment| figment.merge(("push.long_poll_max_ms", 1500)),
        async |t| {
            long_poll_page_answers_empty_at_the_cap(t, "/script-long-polling").await?;
            let scripts = held_scripts(t).await?;
            assert!(scripts <= 1, "one script element at most, saw {scripts}");
            let published = vec![t.app.publish("after the cap").await];
            let arrived = t
                .wait_demo("the event in #log", |d| !d.log_ids.is_empty())
                .await?;
            assert_eq!(arrived.ids(), published, "the event once: {arrived:#?}");
            Ok(())
        },
    )
    .await;
}
