//! The transport doctor (`/doctor`) in Chromium, against the real app through the proxies of
//! [`crate::proxies`]: nginx passing everything through, nginx refusing upgrades, a proxy
//! that holds answers until they end (and refuses upgrades), and a proxy that cuts every
//! connection a few seconds after it opened. Each technique's verdict is asserted in each.
//! The tests wait on the rows' `data-verdict`, never on a clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fantoccini::Client;
use serde::Deserialize;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::harness::{Ctx, TestResult, browser_test_with, wait_for};
use crate::nginx::{self, Nginx};
use crate::proxies::{CUT_AFTER, NO_UPGRADES, Proxy, buffering, cutting};

/// How long a whole diagnosis may take (it runs three groups of six seconds).
const DIAGNOSIS: Duration = Duration::from_secs(60);

/// The streams: one answer that carries every event.
const STREAMS: [&str; 3] = [
    "server-sent-events",
    "multipart-streaming",
    "forever-iframe",
];
/// The techniques that answer each request (at once, or when there is news).
const ANSWERED: [&str; 5] = [
    "long-polling",
    "script-long-polling",
    "polling",
    "jsonp-polling",
    "piggyback",
];

/// What the page shows once the diagnosis is done: each row's verdict and the JSON report.
#[derive(Debug, Deserialize)]
struct Diagnosis {
    state: String,
    verdicts: BTreeMap<String, Option<String>>,
    report: Option<Value>,
}

impl Diagnosis {
    fn verdict(&self, transport: &str) -> &str {
        self.verdicts
            .get(transport)
            .and_then(|v| v.as_deref())
            .unwrap_or("(none)")
    }

    /// One of `transport`'s figures from the report.
    fn figure(&self, transport: &str, name: &str) -> Option<f64> {
        let rows = self.report.as_ref()?["rows"].as_array()?;
        let row = rows.iter().find(|r| r["transport"] == transport)?;
        row["figures"][name].as_f64()
    }

    /// The verdict table, with the evidence, for the test's output.
    fn table(&self) -> String {
        let rows = self.report.as_ref().and_then(|r| r["rows"].as_array());
        rows.into_iter()
            .flatten()
            .map(|r| {
                format!(
                    "  {:22} {:9} {}\n",
                    r["transport"], r["verdict"], r["evidence"]
                )
            })
            .collect()
    }
}

async fn diagnosis(client: &Client) -> TestResult<Diagnosis> {
    let js = "const verdicts = {};
        for (const row of document.querySelectorAll('tr[data-transport]')) {
          verdicts[row.dataset.transport] = row.dataset.verdict ?? null;
        }
        const json = document.getElementById('doctor-json')?.textContent ?? '';
        return {
          state: document.getElementById('doctor-status')?.dataset.state ?? '',
          verdicts,
          report: json ? JSON.parse(json) : null,
        };";
    Ok(serde_json::from_value(client.execute(js, vec![]).await?)?)
}

/// Loads `/doctor` from `origin` and waits until every row has its verdict and the report
/// is written.
async fn diagnose(t: &Ctx, origin: &str, what: &str) -> TestResult<Diagnosis> {
    let started = Instant::now();
    t.client.goto(&format!("{origin}/doctor")).await?;
    let done = wait_for(
        &t.client,
        "every row's verdict",
        DIAGNOSIS,
        diagnosis,
        |d| d.state == "done" && d.verdicts.len() == 9 && d.verdicts.values().all(Option::is_some),
    )
    .await?;
    // The figures for the README, not a timed assertion.
    eprintln!(
        "doctor {what}: diagnosis done {:.1?} after the page was asked for\n{}",
        started.elapsed(),
        done.table()
    );
    Ok(done)
}

/// Asserts that `transport`'s verdict is one of `allowed`.
fn expect(d: &Diagnosis, transport: &str, allowed: &[&str]) {
    let verdict = d.verdict(transport);
    assert!(
        allowed.contains(&verdict),
        "{transport}: {verdict}, expected one of {allowed:?}\n{}",
        d.table()
    );
}

/// The app's settings for these runs: pages from the proxy on `proxy_port` may post to the
/// doctor's endpoints and open WebSockets.
fn behind(proxy_port: u16) -> impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment {
    move |figment| {
        figment.merge((
            "push.allowed_origins",
            [format!("http://127.0.0.1:{proxy_port}")],
        ))
    }
}

/// Reads `/metrics` of the app in the browser.
async fn metrics(t: &Ctx) -> TestResult<String> {
    t.client.goto(&t.app.url("/metrics")).await?;
    let text = t
        .client
        .execute("return document.body.innerText", vec![])
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_every_technique_is_ok_and_the_verdicts_can_be_sent() {
    let name = "behind_nginx_every_technique_is_ok_and_the_verdicts_can_be_sent";
    let Some(binary) = nginx::binary(name) else {
        return;
    };
    let port = nginx::free_port();
    browser_test_with(name, behind(port), async |t| {
        let server = nginx::shipped_server();
        let _nginx = Nginx::start_with(&binary, t.app.port, port, &server).await;
        let d = diagnose(t, &format!("http://127.0.0.1:{port}"), "behind nginx").await?;
        for transport in d.verdicts.keys() {
            expect(&d, transport, &["ok"]);
        }
        let report = d.report.as_ref().ok_or("no report")?;
        assert_eq!(report["summary"]["best"], "websocket");
        let seen = report["seen"]["headers"].as_array().ok_or("no headers")?;
        assert!(
            seen.iter()
                .any(|h| h["name"] == "x-forwarded-for" && h["proxy"] == true),
            "nginx's X-Forwarded-For is shown as a proxy header: {seen:?}"
        );

        // Nothing was sent without the button; with it, nine verdicts are counted.
        let before = metrics(t).await?;
        let line = "reverse_ajax_doctor_verdicts_total{transport=\"websocket\",verdict=\"ok\"}";
        assert!(before.contains(&format!("{line} 0")), "{before}");
        t.client
            .goto(&format!("http://127.0.0.1:{port}/doctor"))
            .await?;
        wait_for(
            &t.client,
            "the second diagnosis",
            DIAGNOSIS,
            diagnosis,
            |d| d.state == "done",
        )
        .await?;
        t.click("#doctor-send").await?;
        let sent = async |c: &Client| -> TestResult<String> {
            let js = "return document.getElementById('doctor-sent').dataset.counted ?? ''";
            Ok(c.execute(js, vec![])
                .await?
                .as_str()
                .unwrap_or_default()
                .to_owned())
        };
        wait_for(&t.client, "the verdicts counted", DIAGNOSIS, sent, |n| {
            n == "9"
        })
        .await?;
        let after = metrics(t).await?;
        assert!(after.contains(&format!("{line} 1")), "{after}");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_without_upgrades_only_websocket_is_blocked() {
    let name = "behind_nginx_without_upgrades_only_websocket_is_blocked";
    let Some(binary) = nginx::binary(name) else {
        return;
    };
    let port = nginx::free_port();
    browser_test_with(name, behind(port), async |t| {
        let _nginx = Nginx::start_with(&binary, t.app.port, port, NO_UPGRADES).await;
        let d = diagnose(
            t,
            &format!("http://127.0.0.1:{port}"),
            "behind nginx, no upgrades",
        )
        .await?;
        expect(&d, "websocket", &["blocked"]);
        for transport in STREAMS.iter().chain(&ANSWERED) {
            expect(&d, transport, &["ok"]);
        }
        let report = d.report.as_ref().ok_or("no report")?;
        assert_eq!(report["summary"]["best"], "server-sent-events");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_buffering_proxy_the_streams_are_buffered_and_websocket_blocked() {
    let name = "behind_a_buffering_proxy_the_streams_are_buffered_and_websocket_blocked";
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    browser_test_with(name, behind(port), async |t| {
        let _proxy = Proxy::spawn(buffering(listener, t.app.port));
        let d = diagnose(
            t,
            &format!("http://127.0.0.1:{port}"),
            "behind a buffering proxy",
        )
        .await?;
        expect(&d, "websocket", &["blocked"]);
        for transport in STREAMS {
            expect(&d, transport, &["buffered"]);
        }
        for transport in ANSWERED {
            expect(&d, transport, &["ok", "slow"]);
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_that_cuts_connections_the_streams_are_cut_after_about_three_seconds() {
    let name = "behind_a_proxy_that_cuts_connections_the_streams_are_cut_after_about_three_seconds";
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("its address").port();
    browser_test_with(name, behind(port), async |t| {
        let _proxy = Proxy::spawn(cutting(listener, t.app.port));
        let d = diagnose(
            t,
            &format!("http://127.0.0.1:{port}"),
            "behind a cutting proxy",
        )
        .await?;
        // A stream may go out on a connection the page opened a moment earlier, which the
        // proxy then cuts sooner: never later than the proxy's limit, and the longest
        // survival (a WebSocket's connection is always its own) is about that limit.
        let most = CUT_AFTER.as_secs_f64() * 1000.0 + 500.0;
        for transport in STREAMS.iter().chain(&["websocket"]) {
            expect(&d, transport, &["cut"]);
            let survived = d.figure(transport, "survived_ms").ok_or("no survival")?;
            assert!(
                (100.0..=most).contains(&survived),
                "{transport} survived {survived} ms\n{}",
                d.table()
            );
        }
        let report = d.report.as_ref().ok_or("no report")?;
        let estimate = report["summary"]["cut_after_ms"]
            .as_f64()
            .ok_or("no estimate")?;
        assert!(
            (most - 1500.0..=most).contains(&estimate),
            "the limit is estimated at {estimate} ms\n{}",
            d.table()
        );
        Ok(())
    })
    .await;
}
