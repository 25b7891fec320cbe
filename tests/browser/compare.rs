//! `/compare`: the nine techniques at once on one channel, charted.

use std::time::Duration;

use serde::Deserialize;

use crate::harness::{TestResult, browser_test, wait_for};

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
