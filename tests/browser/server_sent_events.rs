//! `/server-sent-events`: EventSource, resuming by Last-Event-ID.

use crate::harness::{browser_test, push_page_resumes_after_reconnect};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_page_resumes_after_a_reconnect_without_loss() {
    browser_test(
        "sse_page_resumes_after_a_reconnect_without_loss",
        async |t| {
            let log = push_page_resumes_after_reconnect(t, "/server-sent-events").await?;
            assert!(
                log.iter().filter(|l| *l == "[client] connected").count() >= 2,
                "two connections were opened: {log:#?}"
            );
            Ok(())
        },
    )
    .await;
}
