//! `/postal-code` (Listing 1): typing a code fills in the place name from a JSONP answer.

use fantoccini::Locator;
use serde::Deserialize;

use crate::harness::{Ctx, TestResult, WAIT, browser_test, wait_for};

/// What the lookup form shows.
#[derive(Debug, Deserialize)]
struct Lookup {
    place: String,
    request: String,
    answer: String,
    scripts: usize,
}

async fn lookup(t: &Ctx) -> TestResult<Lookup> {
    let state = t
        .client
        .execute(
            "const text = (id) => document.getElementById(id)?.textContent ?? '';
             return {
               place: document.getElementById('place-name')?.value ?? '',
               request: text('request-url'),
               answer: text('raw-answer'),
               scripts: document.querySelectorAll('script[src*=\"api/postalcodes\"]').length,
             };",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(state)?)
}

async fn wait_place(t: &Ctx, place: &str) -> TestResult<Lookup> {
    wait_for(
        &t.client,
        &format!("the place name {place:?}"),
        WAIT,
        async |_| lookup(t).await,
        |l| l.place == place,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_a_postal_code_fills_in_the_place_name_over_jsonp() {
    browser_test(
        "typing_a_postal_code_fills_in_the_place_name_over_jsonp",
        async |t| {
            t.open("/postal-code").await?;
            let code = t
                .client
                .wait()
                .for_element(Locator::Css("#postal-code"))
                .await?;

            code.send_keys("10001").await?;
            let us = wait_place(t, "New York").await?;

            assert!(us.request.contains("/api/postalcodes?"), "{us:?}");
            assert!(us.request.contains("postalcode=10001") && us.request.contains("country=US"));
            assert!(
                us.request.contains("callback=ReverseAjax.postal.cb"),
                "a JSONP request: {us:?}"
            );
            assert!(us.answer.contains("\"placeName\": \"New York\""), "{us:?}");
            assert_eq!(
                us.scripts, 0,
                "the script element is removed once it has answered"
            );

            t.client
                .find(Locator::Css("#country"))
                .await?
                .select_by_value("GB")
                .await?;
            code.clear().await?;
            code.send_keys("sw1a 1aa").await?;
            let uk = wait_place(t, "London South West").await?;

            assert!(uk.request.contains("country=GB"), "{uk:?}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_japanese_code_without_its_hyphen_finds_tokyo_and_typing_clears_the_last_answer() {
    browser_test(
        "a_japanese_code_without_its_hyphen_finds_tokyo_and_typing_clears_the_last_answer",
        async |t| {
            t.open("/postal-code").await?;
            let code = t
                .client
                .wait()
                .for_element(Locator::Css("#postal-code"))
                .await?;
            code.send_keys("10001").await?;
            wait_place(t, "New York").await?;

            // Another code begins: the answer for the old one goes at once.
            code.send_keys("9").await?;
            let typing = lookup(t).await?;
            assert_eq!(typing.place, "", "no stale place while typing: {typing:?}");

            t.client
                .find(Locator::Css("#country"))
                .await?
                .select_by_value("JP")
                .await?;
            code.clear().await?;
            code.send_keys("1000001").await?;
            let tokyo = wait_for(
                &t.client,
                "a place for 1000001 in Japan",
                WAIT,
                async |_| lookup(t).await,
                |l| !l.place.is_empty(),
            )
            .await?;
            assert!(tokyo.request.contains("postalcode=1000001"), "{tokyo:?}");
            assert!(tokyo.answer.contains("100-0001"), "{tokyo:?}");
            Ok(())
        },
    )
    .await;
}
