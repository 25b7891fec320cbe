//! `/multipart-streaming`: one multipart response read with fetch and cut into parts by the page.

use crate::harness::{browser_test, push_page_resumes_after_reconnect};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_page_resumes_after_a_reconnect_without_loss() {
    browser_test(
        "multipart_page_resumes_after_a_reconnect_without_loss",
        async |t| {
            let log = push_page_resumes_after_reconnect(t, "/multipart-streaming").await?;
            assert!(
                log.iter().filter(|l| *l == "[client] connected").count() >= 2,
                "two connections were opened: {log:#?}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_page_reads_a_part_whose_text_contains_boundary_like_lines() {
    browser_test(
        "multipart_page_reads_a_part_whose_text_contains_boundary_like_lines",
        async |t| {
            t.open("/multipart-streaming").await?;
            let tricky = "--rajax\r\nContent-Type: text/plain\r\n\r\n{\"x\":1}\r\n--";
            let mut published = vec![t.app.publish(tricky).await];
            published.push(t.app.publish("plain").await);
            let settled = t
                .wait_demo("2 event entries in #log", |d| d.log_ids.len() >= 2)
                .await?;
            assert_eq!(
                settled.ids(),
                published,
                "both events, in order: {settled:#?}"
            );
            let log = t.log_texts().await?;
            assert!(
                log.iter().any(|l| l == format!("[event] {tricky}").trim()),
                "the tricky text is shown as it was sent: {log:#?}"
            );
            Ok(())
        },
    )
    .await;
}
