//! The harness itself: the app answers a real browser.

use reverse_ajax::pages::catalog::TECHNIQUES;

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

/// Every page, and an error page, under the real policy: the harness fails the test on any
/// violation Chromium logs while they load and their scripts start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_without_a_csp_violation() {
    browser_test("every_page_loads_without_a_csp_violation", async |t| {
        let pages = TECHNIQUES
            .iter()
            .filter(|p| p.built)
            .map(|p| format!("/{}", p.slug));
        for path in ["/".to_owned(), "/nope".to_owned()]
            .into_iter()
            .chain(pages)
        {
            t.open(&path).await?;
            wait_for(
                &t.client,
                &format!("{path} to finish loading"),
                WAIT,
                async |c| Ok(c.execute("return document.readyState", vec![]).await?),
                |state| state == "complete",
            )
            .await?;
        }
        Ok(())
    })
    .await;
}
