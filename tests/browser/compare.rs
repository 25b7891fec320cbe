//! `/compare`: the nine techniques at once on one channel, charted.

use std::time::Duration;

use serde::Deserialize;

use crate::harness::{TestResult, browser_test, browser_test_with, wait_for};

/// What the page shows for one technique block.
#[derive(Debug, Deserialize)]
struct Block {
    technique: String,
    events: f64,
    requests: f64,
    /// `data-id` of each event line in the block's log, top to bottom.
    ids: Vec<String>,
    starved: bool,
}

const BLOCKS_JS: &str = r#"
return Array.from(document.querySelectorAll('.lab-block[data-technique]'), (b) => ({
  technique: b.dataset.technique,
  events: Number(b.querySelector('[data-metric="events"]').textContent) || 0,
  requests: Number(b.querySelector('[data-metric="requests"]').textContent) || 0,
  ids: Array.from(b.querySelectorAll('[data-kind="event"][data-id]'), (e) => e.dataset.id),
  starved: b.dataset.state === 'starved',
}));
"#;

async fn blocks(client: &fantoccini::Client) -> TestResult<Vec<Block>> {
    Ok(serde_json::from_value(
        client.execute(BLOCKS_JS, vec![]).await?,
    )?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_reaches_all_nine_techniques_in_order_once_each_and_is_charted() {
    browser_test(
        "a_burst_reaches_all_nine_techniques_in_order_once_each_and_is_charted",
        async |t| {
            t.open("/compare").await?;
            // Every technique has sent its first request (the piggyback block's first save
            // comes a few seconds after the page loads).
            let started = wait_for(
                &t.client,
                "a first request from all nine blocks",
                Duration::from_secs(20),
                blocks,
                |b: &Vec<Block>| b.len() == 9 && b.iter().all(|b| b.requests >= 1.0),
            )
            .await?;
            assert!(
                started.iter().all(|b| b.events == 0.0),
                "quiet: {started:#?}"
            );

            t.click("[data-action=\"burst\"]").await?;
            let done = wait_for(
                &t.client,
                "10 events in every block",
                Duration::from_secs(10),
                blocks,
                |b: &Vec<Block>| b.iter().all(|b| b.events >= 10.0),
            )
            .await?;

            let published = t.app.channel_ids().await;
            assert_eq!(
                published.len(),
                10,
                "the burst published ten: {published:?}"
            );
            for block in &done {
                assert_eq!(
                    block.events, 10.0,
                    "{}: once each: {block:#?}",
                    block.technique
                );
                assert_eq!(
                    block.ids, published,
                    "{}: in order: {block:#?}",
                    block.technique
                );
                assert!(!block.starved, "{} starved: {block:#?}", block.technique);
            }

            // The charts draw: uPlot's canvases, with a latency point per technique.
            let drawn: serde_json::Value = t
                .client
                .execute(
                    "return { canvases: document.querySelectorAll('.lab-charts canvas').length, \
                     overhead: Array.from(document.querySelectorAll('[data-overhead]'), \
                     (c) => c.textContent) }",
                    vec![],
                )
                .await?;
            assert!(drawn["canvases"].as_u64() >= Some(3), "{drawn}");
            let overhead = drawn["overhead"].as_array().expect("cells");
            assert_eq!(overhead.len(), 9, "{drawn}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_on_the_server_charts_the_experiments_result_for_every_technique() {
    browser_test_with(
        "run_on_the_server_charts_the_experiments_result_for_every_technique",
        |f| f.merge(("experiments.binary", env!("CARGO_BIN_EXE_reverse-ajax"))),
        async |t| {
            t.open("/compare").await?;
            // A small run: 5 clients for 1 s per technique, so the test stays short.
            t.client
                .execute(
                    "document.getElementById('x-clients').value = '5'; \
                     document.getElementById('x-seconds').value = '1'; \
                     document.getElementById('x-interval').value = '0.5';",
                    vec![],
                )
                .await?;
            t.click("[data-action=\"experiment\"]").await?;
            let shown: serde_json::Value = wait_for(
                &t.client,
                "the experiment's table with nine rows",
                Duration::from_secs(60),
                async |c| {
                    Ok(c.execute(
                        "const t = document.getElementById('experiment-table'); \
                         return { rows: t.hidden ? 0 : t.querySelectorAll('tbody tr').length, \
                         status: document.getElementById('experiment-status').textContent, \
                         canvas: !!document.querySelector('[data-chart=\"experiment\"] canvas') }",
                        vec![],
                    )
                    .await?)
                },
                |v: &serde_json::Value| v["rows"].as_u64() == Some(9),
            )
            .await?;
            assert_eq!(shown["canvas"], true, "the result is charted: {shown}");
            assert!(
                shown["status"]
                    .as_str()
                    .is_some_and(|s| s.contains("finished")),
                "{shown}"
            );
            Ok(())
        },
    )
    .await;
}
