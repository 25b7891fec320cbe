//! The harness itself: the app answers a real browser.

use crate::harness::{WAIT, browser_test, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_page_loads_in_chromium() {
    browser_test("the_index_page_loads_in_chromium", async |t| {
        t.open("/").await?;
        let title = wait_for(
            &t.client,
            "a document with a body",
            WAIT,
            async |c| {
                Ok(
                    c.execute("return document.body ? document.title : null", vec![])
                        .await?,
                )
            },
            |v| !v.is_null(),
        )
        .await?;
        eprintln!("index title: {title}");
        Ok(())
    })
    .await;
}
