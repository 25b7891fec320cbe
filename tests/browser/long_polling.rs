//! `/long-polling`: fetch requests held by the server until an event or the cap.

use crate::harness::{
    browser_test_with, long_poll_page_answers_empty_at_the_cap, push_page_resumes_after_reconnect,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polling_page_resumes_after_a_reconnect_without_loss() {
    browser_test_with(
        "long_polling_page_resumes_after_a_reconnect_without_loss",
        |figment| figment.merge(("push.long_poll_max_ms", 1500)),
        async |t| {
            push_page_resumes_after_reconnect(t, "/long-polling").await?;
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polling_page_counts_the_empty_answer_at_the_cap() {
    browser_test_with(
        "long_polling_page_counts_the_empty_answer_at_the_cap",
        |figment| figment.merge(("push.long_poll_max_ms", 1500)),
        async |t| {
            let idle = long_poll_page_answers_empty_at_the_cap(t, "/long-polling").await?;
            assert!(idle.bytes > Some(0.0), "#count-bytes: {idle:#?}");
            let log = t.log_texts().await?;
            assert!(
                log.iter().any(|l| l == "[client] No event"),
                "the empty answer is logged: {log:#?}"
            );
            Ok(())
        },
    )
    .await;
}
