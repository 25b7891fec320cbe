//! The harness itself: the app answers a real browser.

use reverse_ajax::pages::catalog::TECHNIQUES;

use crate::console;
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
/// violation Chromium logs while they load and their scripts start. Every page but the error
/// page must also log no error at all (a failed load, a script error, `console.error`) while
/// its demo makes its first requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_without_a_csp_violation_or_a_console_error() {
    browser_test(
        "every_page_loads_without_a_csp_violation_or_a_console_error",
        async |t| {
            let pages = TECHNIQUES.iter().map(|p| format!("/{}", p.slug));
            for path in ["/".to_owned(), "/nope".to_owned()]
                .into_iter()
                .chain(pages)
            {
                t.load(&path).await?;
                if path == "/nope" {
                    // The 404 itself is logged as a failed load; that one is expected.
                    console::entries(&t.client).await?;
                    continue;
                }
                // A demo page has started: the server confirmed its pattern, and its first
                // request has gone out (the piggyback page asks nothing before a submit).
                let asks_at_once = path != "/piggyback";
                t.wait_demo(&format!("{path}: the demo's first request"), |d| {
                    d.requests.is_none()
                        || d.pattern_status.as_deref().is_some_and(|s| !s.is_empty())
                            && (d.requests >= Some(1.0) || !asks_at_once)
                })
                .await?;
                let entries = console::entries(&t.client).await?;
                let bad: Vec<_> = entries
                    .iter()
                    .filter(|e| console::is_error(e) || console::is_csp_violation(e))
                    .collect();
                assert!(bad.is_empty(), "{path} logged: {bad:#?}");
            }
            Ok(())
        },
    )
    .await;
}
