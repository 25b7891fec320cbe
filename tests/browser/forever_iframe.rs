//! `/forever-iframe`: a hidden iframe whose document never finishes, reloaded from the last id.

use crate::harness::{
    browser_test, browser_test_with, publish_many, push_page_resumes_after_reconnect, settle,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forever_iframe_page_resumes_after_a_reconnect_without_loss() {
    browser_test(
        "forever_iframe_page_resumes_after_a_reconnect_without_loss",
        async |t| {
            let log = push_page_resumes_after_reconnect(t, "/forever-iframe").await?;
            assert!(
                log.iter()
                    .any(|l| l.starts_with("[client] dropping the connection")),
                "the reconnection is logged: {log:#?}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forever_iframe_reloads_after_its_byte_budget_and_loses_nothing() {
    browser_test_with(
        "forever_iframe_reloads_after_its_byte_budget_and_loses_nothing",
        |figment| figment.merge(("push.iframe_budget", 4096)),
        async |t| {
            t.open("/forever-iframe").await?;
            // About twenty event scripts fit in 4 KiB after the padding: 60 need several documents.
            let mut published = publish_many(&t.app, "budget", 60).await;
            let settled = settle(t, &mut published).await?;
            assert_eq!(
                settled.ids(),
                published,
                "each event once, in order: {settled:#?}"
            );

            let log = t.log_texts().await?;
            let ends = log
                .iter()
                .filter(|l| l.starts_with("[client] stream ended (budget); resuming from "))
                .count();
            assert!(
                ends >= 2,
                "the document ended on its budget at least twice: {log:#?}"
            );
            assert!(
                settled.requests >= Some(3.0),
                "one request per document: {settled:#?}"
            );
            assert!(
                settled.log_errors.is_empty(),
                "no error entries: {settled:#?}"
            );
            Ok(())
        },
    )
    .await;
}
