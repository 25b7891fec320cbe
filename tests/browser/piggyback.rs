//! `/piggyback`: events ride along on the answers to form submissions.

use fantoccini::Locator;

use crate::harness::{Ctx, Demo, TestResult, browser_test};

/// Types `value` into the form field named `name`, replacing what was there.
async fn fill(t: &Ctx, name: &str, value: &str) -> TestResult {
    let field = t
        .client
        .find(Locator::Css(&format!("#register [name=\"{name}\"]")))
        .await?;
    field.clear().await?;
    if !value.is_empty() {
        field.send_keys(value).await?;
    }
    Ok(())
}

/// Fills in a registration the server accepts.
async fn fill_valid(t: &Ctx) -> TestResult {
    fill(t, "name", "Ada Lovelace").await?;
    fill(t, "email", "ada@example.org").await?;
    fill(t, "seats", "2").await?;
    t.client
        .find(Locator::Css("#register [name=\"country\"]"))
        .await?
        .select_by_value("US")
        .await?;
    fill(t, "postal_code", "10001").await
}

/// Presses the form's submit button, as a user would.
async fn submit(t: &Ctx) -> TestResult {
    t.click(
        "#register button[type=submit], #register input[type=submit], #register button:not([type])",
    )
    .await
}

fn no_field_errors(d: &Demo) -> bool {
    d.field_errors
        .values()
        .all(|text| text.as_str().is_some_and(str::is_empty))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piggyback_form_shows_errors_then_succeeds_and_carries_each_event_once() {
    browser_test(
        "piggyback_form_shows_errors_then_succeeds_and_carries_each_event_once",
        async |t| {
            t.open("/piggyback").await?;
            let mut published = Vec::new();
            for n in 1..=3 {
                published.push(t.app.publish(&format!("e{n}")).await);
            }

            // An invalid form: no name, a malformed e-mail address.
            fill(t, "name", "").await?;
            fill(t, "email", "not-an-email").await?;
            submit(t).await?;
            let invalid = t
                .wait_demo("errors for name and email, and 3 events in #log", |d| {
                    d.field_error("name").is_some_and(|e| !e.is_empty())
                        && d.field_error("email").is_some_and(|e| !e.is_empty())
                        && d.log_ids.len() >= 3
                })
                .await?;
            assert_eq!(
                invalid.ids(),
                published,
                "the 3 events once, in order: {invalid:#?}"
            );
            assert_eq!(
                invalid.requests,
                Some(1.0),
                "one request per submit: {invalid:#?}"
            );
            let focused = t
                .client
                .execute("return document.activeElement?.name ?? null;", vec![])
                .await?;
            assert_eq!(
                focused, "name",
                "the first invalid field has the focus after a refused submit"
            );

            // A valid form.
            fill_valid(t).await?;
            submit(t).await?;
            let valid = t
                .wait_demo("a new #form-result and no field errors", |d| {
                    d.form_result.as_deref().is_some_and(|r| !r.is_empty())
                        && d.form_result != invalid.form_result
                        && no_field_errors(d)
                })
                .await?;
            let result = valid.form_result.clone().unwrap_or_default();
            assert!(
                result.to_lowercase().contains("confirmed"),
                "#form-result reports success: {valid:#?}"
            );
            assert_eq!(
                valid.requests,
                Some(2.0),
                "one request per submit: {valid:#?}"
            );
            assert_eq!(valid.ids(), published, "no new events yet: {valid:#?}");

            // Two more events ride along on the next submit, and only those.
            for n in 4..=5 {
                published.push(t.app.publish(&format!("e{n}")).await);
            }
            submit(t).await?;
            let again = t
                .wait_demo("5 events in #log", |d| d.log_ids.len() >= 5)
                .await?;
            assert_eq!(
                again.ids(),
                published,
                "5 events once each, in order: {again:#?}"
            );
            assert_eq!(
                again.requests,
                Some(3.0),
                "one request per submit: {again:#?}"
            );

            // Nothing was requested while the page sat idle during the whole test.
            let last = t.demo().await?;
            assert_eq!(
                last.requests,
                Some(3.0),
                "no request without a submit: {last:#?}"
            );
            assert_eq!(last.ids(), published, "still no duplicate: {last:#?}");
            assert!(last.log_errors.is_empty(), "no error entries: {last:#?}");
            Ok(())
        },
    )
    .await;
}
