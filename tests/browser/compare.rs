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
                     document.getElementById('x-interval').value = '0.5'; \
                     document.getElementById('experiment-form').dispatchEvent(new Event('input'));",
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
                         duration: document.getElementById('experiment-duration').textContent, \
                         legend: document.querySelector('[data-chart=\"experiment\"] .u-legend')?.textContent ?? '', \
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
                shown["duration"]
                    .as_str()
                    .is_some_and(|d| d.contains("takes about 23 s")),
                "the form says how long a run takes: {shown}"
            );
            let legend = shown["legend"].as_str().unwrap_or_default();
            assert!(
                legend.contains("bytes per event") && !legend.contains("Value"),
                "the key names the bars only: {shown}"
            );
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

/// Bytes per event of the two long polls, the live column's place in its scroller, the
/// log panes' tops and heights by row, and the piggyback block's form result.
const LAB_JS: &str = r#"
const perEvent = (slug) => {
  const b = document.querySelector(`.lab-block[data-technique="${slug}"]`);
  const n = (m) => Number(b.querySelector(`[data-metric="${m}"]`).textContent) || 0;
  return n('events') ? n('bytes') / n('events') : 0;
};
const scroller = document.querySelector('.table-scroll').getBoundingClientRect();
const live = Array.from(document.querySelectorAll('.compare-table .live-col'), (c) => c.getBoundingClientRect().right);
const logs = Array.from(document.querySelectorAll('.lab-log'), (l) => {
  const r = l.getBoundingClientRect();
  return [Math.round(r.top), Math.round(r.height)];
});
return {
  script: perEvent('script-long-polling'),
  xhr: perEvent('long-polling'),
  live_past_scroller: live.filter((right) => right > scroller.right + 0.5).length,
  live_cells: live.length,
  logs,
  saved: document.querySelector('[data-el="form-result"]').textContent,
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_counts_both_long_polls_alike_and_shows_its_live_column() {
    browser_test(
        "the_lab_counts_both_long_polls_alike_and_shows_its_live_column",
        async |t| {
            crate::layout::screen(&t.client, 1280, 900, false).await?;
            t.open("/compare").await?;
            wait_for(
                &t.client,
                "a first request from all nine blocks",
                Duration::from_secs(20),
                blocks,
                |b: &Vec<Block>| b.len() == 9 && b.iter().all(|b| b.requests >= 1.0),
            )
            .await?;
            // One event at a time, each answered on its own, so that every answer's headers
            // count: a script from the other loopback name used to be counted by its body only.
            for sent in 1..=4 {
                t.app.publish(&format!("one of four: {sent}")).await;
                wait_for(
                    &t.client,
                    &format!("event {sent} in both long polls"),
                    Duration::from_secs(10),
                    blocks,
                    |b: &Vec<Block>| {
                        b.iter()
                            .filter(|b| b.technique.ends_with("long-polling"))
                            .all(|b| b.events >= f64::from(sent))
                    },
                )
                .await?;
            }
            // Each long poll's answer is counted with its headers once the browser reports
            // it: the script's (from the other loopback name) as well as the fetch's.
            let lab = wait_for(
                &t.client,
                "both long polls' bytes per event within 25 % of each other",
                Duration::from_secs(15),
                async |c| Ok(c.execute(LAB_JS, vec![]).await?),
                |l| {
                    let (s, x) = (
                        l["script"].as_f64().unwrap_or(0.0),
                        l["xhr"].as_f64().unwrap_or(0.0),
                    );
                    s > 0.0 && x > 0.0 && (s - x).abs() <= 0.25 * x.max(s)
                },
            )
            .await?;

            assert_eq!(lab["live_cells"], 10, "a header and nine cells: {lab}");
            assert_eq!(
                lab["live_past_scroller"], 0,
                "the live column is in view at 1280 px: {lab}"
            );
            let logs: Vec<(i64, i64)> = serde_json::from_value(lab["logs"].clone())?;
            assert_eq!(logs.len(), 9, "{lab}");
            for row in logs.chunks(3) {
                assert!(
                    row.iter().all(|l| *l == row[0]),
                    "the log panes of one row share their top and height: {lab}"
                );
            }
            let saved = wait_for(
                &t.client,
                "the piggyback block's second save",
                Duration::from_secs(10),
                async |c| Ok(c.execute(LAB_JS, vec![]).await?),
                |l| {
                    l["saved"].as_str().is_some_and(|s| {
                        s.starts_with("Draft saved") && !s.starts_with("Draft saved 1 time;")
                    })
                },
            )
            .await?;
            assert!(
                !saved["saved"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Registration"),
                "the autosave does not confirm a registration each time: {saved}"
            );
            Ok(())
        },
    )
    .await;
}
